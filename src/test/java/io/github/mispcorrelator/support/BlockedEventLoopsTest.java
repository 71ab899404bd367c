package io.github.mispcorrelator.support;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The guard itself: an event loop blocked past the limit is reported, with the frame that blocked it, and the
 * extension turns the report into a failed test; a worker thread blocked as long is not reported. Each test here
 * takes the reports it provoked ({@link BlockedEventLoops#drain()}), so that the guard running after it finds none.
 */
@ExtendWith(VertxExtension.class)
class BlockedEventLoopsTest {
    /** Long enough for the checker (every 100 ms) to see it past the limit even on a loaded machine. */
    private static final long BLOCK_MILLIS = 3 * BlockedEventLoops.MAX_EVENT_LOOP_MILLIS;
    /** A few of the checker's 100 ms rounds. */
    private static final long CHECKER_SETTLES_MILLIS = 500;

    @AfterEach
    void nothingLeftOver() {
        assertThat(BlockedEventLoops.drain()).isEmpty();
    }

    @Test
    void theInjectedVertxReportsABlockedEventLoopWithWhereItWasStuck(Vertx vertx, VertxTestContext test) {
        BlockedEventLoops.drain();
        vertx.runOnContext(v -> {
            sleepOnTheEventLoop();
            // the checker may be writing its last report as the loop comes back: look once it has had its turn
            vertx.setTimer(CHECKER_SETTLES_MILLIS, t -> test.verify(() -> {
                List<String> reports = BlockedEventLoops.drain();
                assertThat(reports).isNotEmpty();
                assertThat(reports.get(0))
                        .contains("vert.x-eventloop-thread")
                        .contains("time limit is " + BlockedEventLoops.MAX_EVENT_LOOP_MILLIS + " ms")
                        .contains(BlockedEventLoopsTest.class.getName() + ".sleepOnTheEventLoop");
                test.completeNow();
            }));
        });
    }

    @Test
    void theExtensionFailsTheTestThatBlockedAnEventLoop(VertxTestContext test) throws Exception {
        BlockedEventLoops.drain();
        Vertx own = BlockedEventLoops.vertx();
        try {
            own.runOnContext(v -> {
                sleepOnTheEventLoop();
                own.setTimer(CHECKER_SETTLES_MILLIS, t -> test.completeNow());
            });
            assertThat(test.awaitCompletion(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            own.close().await(10, TimeUnit.SECONDS);
        }

        // what JUnit calls after the test: the report becomes the test's failure
        assertThatThrownBy(() -> new BlockedEventLoops().afterEach(null))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("an event loop was blocked longer than " + BlockedEventLoops.MAX_EVENT_LOOP_MILLIS + " ms")
                .hasMessageContaining("sleepOnTheEventLoop");
    }

    @Test
    void aWorkerMayBlock(Vertx vertx, VertxTestContext test) {
        BlockedEventLoops.drain();
        vertx.executeBlocking(() -> {
            Thread.sleep(BLOCK_MILLIS);
            return null;
        }).onComplete(test.succeeding(v -> test.verify(() -> {
            assertThat(BlockedEventLoops.drain()).isEmpty();
            test.completeNow();
        })));
    }

    @Test
    void aBlockThatBeganLoadingAClassIsWarmUpToItsEndButTheNextBlockIsNot(Vertx vertx, VertxTestContext test) {
        BlockedEventLoops.drain();
        vertx.runOnContext(v -> {
            // the first use of a class whose initialiser is slow (as Netty's JFR event or Drools' are), then a little
            // more work in the same turn: the later reports no longer show the initialiser, but are the same block
            SlowToInitialise.touch();
            sleep(BlockedEventLoops.MAX_EVENT_LOOP_MILLIS);
            vertx.setTimer(CHECKER_SETTLES_MILLIS, t -> {
                test.verify(() -> assertThat(BlockedEventLoops.drain()).isEmpty());
                sleepOnTheEventLoop();
                vertx.setTimer(CHECKER_SETTLES_MILLIS, u -> test.verify(() -> {
                    assertThat(BlockedEventLoops.drain()).isNotEmpty()
                            .allMatch(r -> r.contains("sleepOnTheEventLoop"));
                    test.completeNow();
                }));
            });
        });
    }

    /** Initialised on first use, slowly. */
    private static final class SlowToInitialise {
        static {
            sleep(BlockedEventLoops.MAX_EVENT_LOOP_MILLIS * 3 / 2);
        }

        static void touch() {
        }
    }

    private static void sleepOnTheEventLoop() {
        sleep(BLOCK_MILLIS);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
