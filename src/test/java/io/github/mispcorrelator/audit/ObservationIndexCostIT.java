package io.github.mispcorrelator.audit;

import io.github.mispcorrelator.store.ObservationStore;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the look-back's join costs at size (opt-in: {@code -Dlookback.cost=true}, minutes of generation; not in the
 * default suite). A scratch database gets {@code -Dlookback.cost.rows} (10,000,000) distinct values in
 * {@code observations}, each with one {@code observation_days} row on one of the 90 days and one of 500 agents,
 * generated in SQL (generate_series), a quarter each IPv4 addresses, domains, MD5 and SHA-256 hashes. Then 100,000
 * new attribute values ({@code -Dlookback.cost.match}, 1 %, of them seen) are joined, as the look-back does after a
 * mirror pull. Prints the generation time, the join times (first and second run) and the size per million values.
 * <pre>
 * mvn -o -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=ObservationIndexCostIT -Dlookback.cost=true
 * </pre>
 */
class ObservationIndexCostIT {

    /** The i-th generated value, as the SQL below writes it: type and value. */
    static String key(long i) {
        return switch ((int) (i % 4)) {
            case 0 -> "ip:" + ((i / 16_777_216) % 223 + 1) + "." + ((i / 65_536) % 256) + "." + ((i / 256) % 256) + "." + (i % 256);
            case 1 -> "domain:host" + i + ".example.net";
            case 2 -> "md5:" + md5(Long.toString(i));
            default -> "sha256:" + sha256(Long.toString(i));
        };
    }

    static final String GENERATE_VALUES = """
            CREATE UNLOGGED TABLE gen AS
            SELECT i,
                   CASE i % 4 WHEN 0 THEN 'ip' WHEN 1 THEN 'domain' WHEN 2 THEN 'md5' ELSE 'sha256' END AS t,
                   CASE i % 4
                       WHEN 0 THEN ((i / 16777216) % 223 + 1) || '.' || ((i / 65536) % 256) || '.' || ((i / 256) % 256) || '.' || (i % 256)
                       WHEN 1 THEN 'host' || i || '.example.net'
                       WHEN 2 THEN md5(i::text)
                       ELSE encode(sha256(i::text::bytea), 'hex') END AS v
            FROM generate_series(0, :rows - 1) i
            """;

    @Test
    void joiningAHundredThousandNewAttributesWithTenMillionObservationsTakesSeconds() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("lookback.cost"), "opt-in: -Dlookback.cost=true");
        long rows = Long.getLong("lookback.cost.rows", 10_000_000L);
        double matchShare = Double.parseDouble(System.getProperty("lookback.cost.match", "0.01"));
        int attributes = 100_000;
        try (ScratchDatabase db = ScratchDatabase.create("obs_cost").migrate("latest")) {
            long t0 = System.nanoTime();
            try (Connection c = db.owner().getConnection(); Statement s = c.createStatement()) {
                s.execute("SET maintenance_work_mem = '256MB'");
                s.execute("SELECT observations_maintain(90, 2)");
                s.execute(GENERATE_VALUES.replace(":rows", Long.toString(rows)));
                // bulk load without the keys, then build them: as a restore would, and minutes faster
                s.execute("ALTER TABLE observation_days DROP CONSTRAINT observation_days_pkey");
                s.execute("ALTER TABLE observations DROP CONSTRAINT observations_pkey");
                s.execute("""
                        INSERT INTO observation_days (day, indicator_type, value, manager, agent_id, agent_name, first_seen,
                                                      last_seen, alerts, first_alert_id, last_alert_id)
                        SELECT (now() AT TIME ZONE 'UTC')::date - (i % 90)::int, t, v, 'wazuh-manager',
                               lpad((i % 500)::text, 3, '0'), 'host-' || (i % 500),
                               date_trunc('day', now()) - make_interval(days => (i % 90)::int) + interval '8 hours',
                               date_trunc('day', now()) - make_interval(days => (i % 90)::int) + interval '17 hours',
                               1 + i % 5, '1700000000.' || i, '1700000001.' || i
                        FROM gen""");
                s.execute("""
                        INSERT INTO observations (indicator_type, value, first_seen, last_seen, alerts)
                        SELECT t, v, date_trunc('day', now()) - make_interval(days => (i % 90)::int) + interval '8 hours',
                               date_trunc('day', now()) - make_interval(days => (i % 90)::int) + interval '17 hours',
                               1 + i % 5
                        FROM gen""");
                s.execute("ALTER TABLE observations ADD CONSTRAINT observations_pkey PRIMARY KEY (value, indicator_type)");
                s.execute("ALTER TABLE observation_days ADD CONSTRAINT observation_days_pkey "
                        + "PRIMARY KEY (value, indicator_type, manager, agent_id, day)");
                s.execute("DROP TABLE gen");
                s.execute("ANALYZE observations");
                s.execute("ANALYZE observation_days");
            }
            double generated = (System.nanoTime() - t0) / 1e9;

            long totalBytes;
            long daysBytes;
            try (Connection c = db.owner().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("""
                         SELECT pg_total_relation_size('observations'),
                                (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('observation_days'))""")) {
                rs.next();
                totalBytes = rs.getLong(1) + rs.getLong(2);
                daysBytes = rs.getLong(2);
            }

            // the new attributes: matchShare of them among the generated values, the rest never seen
            java.util.Set<String> keySet = new java.util.LinkedHashSet<>();
            int seen = (int) Math.round(attributes * matchShare);
            java.util.SplittableRandom random = new java.util.SplittableRandom(15);
            while (keySet.size() < seen) {
                keySet.add(key(random.nextLong(rows)));
            }
            for (int k = seen; k < attributes; k++) {
                keySet.add(k % 2 == 0 ? "sha256:" + sha256("new-" + k) : "domain:new" + k + ".example.org");
            }
            List<String> keys = new ArrayList<>(keySet);
            ObservationStore store = new ObservationStore(db.owner(), null);
            LocalDate since = LocalDate.now(ZoneOffset.UTC).minusDays(89);
            double[] joins = new double[2];
            int found = 0;
            for (int run = 0; run < 2; run++) {
                long j0 = System.nanoTime();
                found = store.sightingsNow(keys, since).size();
                joins[run] = (System.nanoTime() - j0) / 1e9;
            }
            if (Boolean.getBoolean("lookback.cost.plan")) {
                printPlan(db, keys, since);
            }
            double perMillion = totalBytes / (rows / 1e6) / (1 << 20);
            System.out.printf(Locale.ROOT, "observation index cost: %,d values (%,d day rows) generated and keyed in %.0f s; "
                            + "size %,.0f MiB (%,.0f MiB day rows), %.0f MiB per million distinct values; join of %,d new "
                            + "values (%,d seen) in %.2f s first, %.2f s again; %,d sightings%n",
                    rows, rows, generated, totalBytes / 1048576.0, daysBytes / 1048576.0, perMillion, attributes, seen,
                    joins[0], joins[1], found);
            assertThat(found).isEqualTo(seen);
            assertThat(joins[0]).as("seconds, not minutes").isLessThan(60);
        }
    }

    /** EXPLAIN ANALYZE of the look-back join, for -Dlookback.cost.plan=true. */
    static void printPlan(ScratchDatabase db, List<String> keys, LocalDate since) throws Exception {
        try (Connection c = db.owner().getConnection(); Statement s = c.createStatement();
             java.sql.PreparedStatement ps = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) " + ObservationStore.sightingsSql())) {
            c.setAutoCommit(false);
            s.execute(ObservationStore.joinSettingsSql());
            ps.setArray(1, c.createArrayOf("text", keys.stream().map(k -> k.substring(0, k.indexOf(':'))).toArray()));
            ps.setArray(2, c.createArrayOf("text", keys.stream().map(k -> k.substring(k.indexOf(':') + 1)).toArray()));
            ps.setObject(3, since);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    System.out.println(rs.getString(1));
                }
            }
        }
    }

    static String md5(String s) {
        return hex("MD5", s);
    }

    static String sha256(String s) {
        return hex("SHA-256", s);
    }

    private static String hex(String algorithm, String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance(algorithm)
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
