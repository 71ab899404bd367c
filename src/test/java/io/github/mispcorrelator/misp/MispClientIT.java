package io.github.mispcorrelator.misp;

import io.github.mispcorrelator.indicator.Indicator;
import io.github.mispcorrelator.indicator.IndicatorType;
import io.github.mispcorrelator.support.FakeMisp;
import io.github.mispcorrelator.support.FakeMisp.Answer;
import io.github.mispcorrelator.support.Fixtures;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The MISP client against a real HTTP server playing MISP, including every way MISP fails. The client runs on the
 * Vert.x that {@link VertxExtension} provides for the class (with the test event-loop limit, so a blocking client
 * fails here).
 */
@ExtendWith(VertxExtension.class)
class MispClientIT {
    private static final String SHA = "75bf0049f7008d7c9c6127f7e6a0a4c1a4f1d38a7ce30f8b83e39bd0d6d9a5c2";
    private static final Indicator SHA_IND = new Indicator(IndicatorType.SHA256, SHA, "data.win.eventdata.hashes", "r");
    private static final Indicator IP_IND = new Indicator(IndicatorType.IP, "81.2.69.142", "data.win.eventdata.destinationIp", "r");

    static FakeMisp misp;
    static Vertx vertx;
    MispClient client;

    @BeforeAll
    static void startServers(Vertx classVertx) {
        misp = new FakeMisp();
        vertx = classVertx;
    }

    @AfterAll
    static void stopServers() {
        misp.close();
    }

    @BeforeEach
    void newClient() {
        misp.reset();
        client = new MispClient(vertx, settings(misp.url(), Duration.ofSeconds(5)));
    }

    static MispSettings settings(String url, Duration timeout) {
        return new MispSettings(url, "s3cr3t-automation-key", true, timeout, true, true);
    }

    static LookupResult lookup(MispClient client, Indicator... indicators) throws Exception {
        return client.lookup(List.of(indicators)).await(20, TimeUnit.SECONDS);
    }

    @Test
    void postsOneRestSearchWithValuesInTheBodyAndTheRightHeaders() throws Exception {
        misp.answer(Answer.json(200, Fixtures.text("misp/restsearch-context.json")));

        LookupResult result = lookup(client, SHA_IND, IP_IND);

        assertThat(misp.requests()).hasSize(1);
        FakeMisp.Request r = misp.requests().get(0);
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.path()).isEqualTo("/attributes/restSearch");
        assertThat(r.headers().get("Authorization")).isEqualTo("s3cr3t-automation-key");
        assertThat(r.headers().get("Accept")).isEqualTo("application/json");
        assertThat(r.headers().get("Content-Type")).startsWith("application/json");
        JsonObject body = r.json();
        // the OR form: MISP takes its entries literally (a plain list negates entries starting with "!")
        assertThat(body.getJsonObject("value").getJsonArray("OR").getList()).containsExactly(SHA, "81.2.69.142");
        assertThat(body.getBoolean("includeAllTags")).isTrue();
        assertThat(body.getString("order")).isEqualTo("Attribute.id ASC");
        assertThat(body.getJsonArray("type").getList()).contains("sha256", "filename|sha256", "ip-dst", "ip-dst|port");
        assertThat(body.getBoolean("to_ids")).isTrue();
        assertThat(body.getBoolean("published")).isTrue();

        assertThat(result.errors()).isEmpty();
        assertThat(result.matches().get(SHA_IND)).hasSize(2);
        assertThat(result.matches().get(IP_IND)).extracting(MispAttribute::value).containsExactly("81.2.69.142|443");
    }

    @Test
    void valuesWithCharactersThatBreakAUrlTravelSafelyInTheBody() throws Exception {
        Indicator odd = new Indicator(IndicatorType.URL, "http://evil.example/a b?c=d&e=/../%2F#x", "data.url", "r");
        lookup(client, odd);
        assertThat(misp.requests().get(0).path()).isEqualTo("/attributes/restSearch");
        assertThat(misp.requests().get(0).json().getJsonObject("value").getJsonArray("OR").getString(0)).isEqualTo(odd.value());
    }

    @Test
    void aFullPageIsFollowedByTheNextSoNoValueIsPushedOff() throws Exception {
        // one common value fills the first page (1000 attributes); the other value's attribute is on page 2
        misp.answer(r -> {
            int page = r.json().getInteger("page");
            io.vertx.core.json.JsonArray attrs = new io.vertx.core.json.JsonArray();
            if (page == 1) {
                for (int i = 0; i < RestSearchRequest.LIMIT; i++) {
                    attrs.add(FakeMisp.attribute("common-" + i, "ip-dst", "81.2.69.142"));
                }
            } else if (page == 2) {
                attrs.add(FakeMisp.attribute("rare", "sha256", SHA));
            }
            // X-Result-Count: the page's rows, plus one when the page was full (MispAttribute.php:3336-3386)
            return new Answer(200, Map.of("Content-Type", "application/json", "X-Result-Count",
                    Integer.toString(attrs.size() + (attrs.size() == RestSearchRequest.LIMIT ? 1 : 0))),
                    new JsonObject().put("response", new JsonObject().put("Attribute", attrs)).encode(), 0);
        });

        LookupResult r = lookup(client, SHA_IND, IP_IND);

        assertThat(misp.requests()).extracting(q -> q.json().getInteger("page")).containsExactly(1, 2);
        assertThat(r.matches().get(IP_IND)).hasSize(RestSearchRequest.LIMIT);
        assertThat(r.matches().get(SHA_IND)).extracting(MispAttribute::uuid).containsExactly("rare");
    }

    @Test
    void anEmptyAnswerIsNoHitAndNoError() throws Exception {
        misp.answer(Answer.json(200, Fixtures.text("misp/restsearch-empty.json")));
        LookupResult r = lookup(client, SHA_IND);
        assertThat(r.matches()).isEmpty();
        assertThat(r.errors()).isEmpty();
    }

    @Test
    void noIndicatorsMeansNoRequest(VertxTestContext test) {
        client.lookup(List.of()).onComplete(test.succeeding(r -> test.verify(() -> {
            assertThat(r.matches()).isEmpty();
            assertThat(misp.requests()).isEmpty();
            test.completeNow();
        })));
    }

    @Test
    void forbiddenBecomesAnErrorPerIndicatorAndTheNextLookupWorks() throws Exception {
        misp.answer(Answer.json(403, Fixtures.text("misp/error-403.json")));
        LookupResult refused = lookup(client, SHA_IND, IP_IND);
        assertThat(refused.matches()).isEmpty();
        assertThat(refused.errors()).containsOnlyKeys(SHA_IND, IP_IND);
        assertThat(refused.errors().get(SHA_IND)).contains("HTTP 403").contains("Authentication failed")
                .doesNotContain("s3cr3t");

        misp.answer(Answer.json(200, Fixtures.text("misp/restsearch-context.json")));
        assertThat(lookup(client, SHA_IND).matches()).containsKey(SHA_IND);
    }

    @Test
    void rateLimitSaysWhenToRetry() throws Exception {
        misp.answer(new Answer(429, Map.of("Content-Type", "application/json", "X-Rate-Limit-Reset", "120"),
                Fixtures.text("misp/error-429.json"), 0));
        assertThat(lookup(client, SHA_IND).errors().get(SHA_IND)).contains("429").contains("120 s");
    }

    @Test
    void serverErrorsAndNonJsonBodiesAreErrors() throws Exception {
        misp.answer(new Answer(500, Map.of("Content-Type", "text/html"), "<html>Internal Error</html>", 0));
        assertThat(lookup(client, SHA_IND).errors().get(SHA_IND)).contains("HTTP 500");

        misp.answer(new Answer(200, Map.of("Content-Type", "text/html"), "<html><body>Login</body></html>", 0));
        assertThat(lookup(client, SHA_IND).errors().get(SHA_IND)).contains("not JSON").contains("Login");

        misp.answer(Answer.json(200, "{\"name\":\"Oops\",\"message\":\"Something\"}"));
        assertThat(lookup(client, SHA_IND).errors().get(SHA_IND)).contains("not with a restSearch result");
    }

    @Test
    void aHungMispCostsAtMostTheTimeout(VertxTestContext test) {
        misp.answer(Answer.hang());
        MispClient impatient = new MispClient(vertx, settings(misp.url(), Duration.ofMillis(300)));
        long start = System.nanoTime();
        impatient.lookup(List.of(SHA_IND)).onComplete(test.succeeding(r -> test.verify(() -> {
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(r.errors().get(SHA_IND)).contains("did not answer within 300 ms");
            assertThat(tookMs).isLessThan(3_000);
            test.completeNow();
        })));
    }

    @Test
    void anUnreachableMispIsAnError() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        MispClient nowhere = new MispClient(vertx, settings("http://127.0.0.1:" + closedPort, Duration.ofSeconds(2)));
        assertThat(lookup(nowhere, SHA_IND).errors().get(SHA_IND)).containsAnyOf("unreachable", "refused");
    }
}
