package io.github.mispcorrelator.http;

import io.github.mispcorrelator.support.Fixtures;
import io.github.mispcorrelator.support.LogCapture;
import io.github.mispcorrelator.support.ServiceUnderTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 17, defect 6: slow and idle clients cannot hold the service. Headers, bodies and idle connections have
 * deadlines; connections beyond the cap are closed with one log line. Loopback only, a bounded number of sockets.
 */
class SlowConnectionsIT {
    static ServiceUnderTest app;
    static LogCapture log;

    @BeforeAll
    static void start() {
        log = LogCapture.open();
        app = new ServiceUnderTest(Map.of(
                "CORRELATOR_DATA_DIR", Fixtures.workDir("slow").toString(),
                "CORRELATOR_HTTP_HEADER_TIMEOUT", "1s",
                "CORRELATOR_HTTP_BODY_TIMEOUT", "1500ms",
                "CORRELATOR_HTTP_IDLE_TIMEOUT", "3s",
                "CORRELATOR_HTTP_MAX_CONNECTIONS", "40"));
    }

    @AfterAll
    static void stop() {
        app.close();
        log.close();
    }

    static Socket open() throws Exception {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), app.service().httpPort());
        s.setSoTimeout(10_000);
        return s;
    }

    /** Milliseconds until the server closes the socket (reads until end of stream). */
    static long millisUntilClosed(Socket s, long t0) throws Exception {
        InputStream in = s.getInputStream();
        try {
            while (in.read() >= 0) {
                // an answer (408) may come first
            }
        } catch (SocketTimeoutException e) {
            return Long.MAX_VALUE;
        } catch (java.io.IOException reset) {
            // closed
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void connectionsThatSendNothingAreClosedAfterTheHeaderTimeout() throws Exception {
        List<Socket> idle = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            idle.add(open());
        }
        assertThat(app.get("/health/live").status()).isEqualTo(200);
        for (Socket s : idle) {
            assertThat(millisUntilClosed(s, t0)).isBetween(500L, 5_000L);
            s.close();
        }
    }

    @Test
    void headersTrickledByteByByteAreCutOffAtTheHeaderTimeout() throws Exception {
        try (Socket s = open()) {
            OutputStream out = s.getOutputStream();
            long t0 = System.nanoTime();
            byte[] request = "POST /v1/alerts HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    .getBytes(StandardCharsets.US_ASCII);
            boolean cut = false;
            for (byte b : request) {
                try {
                    out.write(b);
                    out.flush();
                } catch (java.io.IOException e) {
                    cut = true;
                    break;
                }
                Thread.sleep(100);
                if ((System.nanoTime() - t0) / 1_000_000 > 4_000) {
                    break;
                }
            }
            // the idle timeout (3 s) never fires on a trickle: the header deadline (1 s) did
            assertThat(cut || millisUntilClosed(s, t0) < 4_000).isTrue();
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(4_000);
        }
    }

    @Test
    void aBodyThatNeverCompletesGets408() throws Exception {
        try (Socket s = open()) {
            OutputStream out = s.getOutputStream();
            long t0 = System.nanoTime();
            out.write(("POST /v1/alerts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n{\"id\":").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertThat(answer).startsWith("HTTP/1.1 408").contains("CORRELATOR_HTTP_BODY_TIMEOUT");
            assertThat(ms).isBetween(1_000L, 5_000L);
        }
    }

    @Test
    void clientsThatHangUpMidBodyGiveTheirAdmissionSlotBack() throws Exception {
        for (int i = 0; i < 10; i++) {
            try (Socket s = open()) {
                s.getOutputStream().write(("POST /v1/alerts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 1000\r\n\r\n{\"id\":").getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                Thread.sleep(50);
            }
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        String inFlight = "";
        while (System.nanoTime() < deadline) {
            inFlight = app.get("/metrics").body().lines().filter(l -> l.startsWith("http_in_flight{endpoint=\"alerts\""))
                    .findFirst().orElse("");
            if (inFlight.endsWith(" 0.0")) {
                break;
            }
            Thread.sleep(100);
        }
        assertThat(inFlight).endsWith(" 0.0");
    }

    @Test
    void connectionsBeyondTheCapAreClosedAtOnceWithOneLogLine() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 60; i++) {
                held.add(open());
            }
            // give the server a moment to see them all; then the 20 beyond the cap are closed at once
            long t0 = System.nanoTime();
            int closedEarly = 0;
            // the last ones opened are those beyond the cap
            List<Socket> newestFirst = new ArrayList<>(held);
            java.util.Collections.reverse(newestFirst);
            for (Socket s : newestFirst) {
                s.setSoTimeout(100);
                try {
                    if (s.getInputStream().read() < 0) {
                        closedEarly++;
                    }
                } catch (SocketTimeoutException still) {
                    // held open (until the header timeout)
                } catch (java.io.IOException reset) {
                    closedEarly++;
                }
                if ((System.nanoTime() - t0) / 1_000_000 > 800) {
                    break;
                }
            }
            assertThat(closedEarly).isGreaterThanOrEqualTo(15);
            assertThat(log.lines().stream().filter(l -> l.contains("CORRELATOR_HTTP_MAX_CONNECTIONS")).count()).isEqualTo(1);
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
        // once they are gone the service answers again
        Thread.sleep(300);
        assertThat(app.get("/health/live").status()).isEqualTo(200);
        assertThat(app.get("/metrics").body()).contains("http_rejected_requests_total{reason=\"connection_cap\"");
    }
}
