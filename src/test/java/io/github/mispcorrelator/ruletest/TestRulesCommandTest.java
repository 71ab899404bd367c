package io.github.mispcorrelator.ruletest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code test-rules} as a detection engineer runs it. */
class TestRulesCommandTest {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int run(String... args) {
        return new TestRulesCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).run(List.of(args));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void showsIndicatorsRulesAndScoredHitsOfAnAlert() {
        int status = run("--drl", "drl", "--feed", "config/demo-feed", "config/samples/sysmon-eid1-eicar.json");
        assertThat(status).isZero();
        assertThat(out()).contains("indicator md5     44d88612fea8a8f36de82e1278abb02f")
                .contains("Sysmon hashes")
                .contains("HIT sha256 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")
                .contains("severity 12")
                .contains("Severity: MISP threat level high");
    }

    @Test
    void jsonOutputForScripts() {
        assertThat(run("--drl", "drl", "--json", "config/samples/sysmon-eid22-c2.json")).isZero();
        assertThat(new io.vertx.core.json.JsonObject(out()).getJsonArray("hits")).hasSize(2);
    }

    @Test
    void aCompileErrorExitsOneWithFileAndLine(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("bad.drl"), "package x;\nrule \"r\" when\n  Foo( \nthen end\n");
        assertThat(run("--drl", dir.toString(), "config/samples/sysmon-eid1-eicar.json")).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("bad.drl");
    }

    @Test
    void goldenCasesPassAndAFailingCaseExitsOne(@TempDir Path dir) throws Exception {
        assertThat(run("--golden", "--drl", "drl")).as(out()).isZero();
        assertThat(out()).contains(" passed, 0 failed");

        Path drl = Files.createDirectories(dir.resolve("drl"));
        for (Path f : Files.list(Path.of("drl")).filter(p -> p.toString().endsWith(".drl")).toList()) {
            Files.copy(f, drl.resolve(f.getFileName()));
        }
        Files.createDirectories(drl.resolve("tests"));
        Files.writeString(drl.resolve("tests/wrong.json"), """
                {"alert": {"rule": {"groups": ["sysmon", "sysmon_eid1_detections"]},
                           "data": {"win": {"eventdata": {"hashes": "MD5=44D88612FEA8A8F36DE82E1278ABB02F"}}}},
                 "expect": {"indicators": [{"type": "sha256", "value": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}]}}
                """);
        out.reset();
        assertThat(run("--golden", "--drl", drl.toString())).isEqualTo(1);
        assertThat(out()).contains("FAIL").contains("indicator extracted but not expected: md5 44d88612fea8a8f36de82e1278abb02f")
                .contains("0 passed, 1 failed");
    }

    @Test
    void badUsageExitsTwo() {
        assertThat(run()).isEqualTo(2);
        assertThat(run("--nope", "x.json")).isEqualTo(2);
    }
}
