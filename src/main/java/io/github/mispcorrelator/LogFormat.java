package io.github.mispcorrelator;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.AbstractMatcherFilter;
import ch.qos.logback.core.spi.FilterReply;
import io.github.mispcorrelator.config.CorrelatorConfig;

import java.util.Locale;

/**
 * The log format, {@code text} or {@code json} ({@code LOG_FORMAT}). {@code logback.xml} attaches both appenders,
 * each behind a {@link Only} filter that lets events through when its format is the one in force: the environment's
 * {@code CORRELATOR_LOG_FORMAT} from the first line on, then the configuration's value once it is read (so the
 * file's {@code log_format} counts too).
 */
public final class LogFormat {
    private static volatile String current = initial();

    private LogFormat() {
    }

    private static String initial() {
        String env = System.getenv("CORRELATOR_LOG_FORMAT");
        return env != null && env.strip().equalsIgnoreCase("json") ? "json" : "text";
    }

    public static void apply(CorrelatorConfig config) {
        use(config.get(CorrelatorConfig.LOG_FORMAT));
    }

    /** @param format {@code text} or {@code json} */
    public static void use(String format) {
        current = format.strip().toLowerCase(Locale.ROOT).equals("json") ? "json" : "text";
    }

    public static String current() {
        return current;
    }

    /** A logback filter: {@code <filter class="io.github.mispcorrelator.LogFormat$Only"><format>json</format></filter>}. */
    public static final class Only extends AbstractMatcherFilter<ILoggingEvent> {
        private String format = "text";

        public void setFormat(String format) {
            this.format = format.strip().toLowerCase(Locale.ROOT);
        }

        @Override
        public FilterReply decide(ILoggingEvent event) {
            return format.equals(current) ? FilterReply.NEUTRAL : FilterReply.DENY;
        }
    }
}
