package io.github.mispcorrelator.config;

/** The correlator's own version, recorded with every hit. */
public final class Version {
    public static final String CORRELATOR = readVersion();

    private Version() {
    }

    private static String readVersion() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
