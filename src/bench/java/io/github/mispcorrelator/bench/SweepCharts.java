package io.github.mispcorrelator.bench;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The sweep's PNG charts, drawn with XChart (a bench-only dependency: no part of the service jar). One chart per
 * question: throughput against distinct values, against the bad share, against the mirror's size, and the mirror's
 * load time and heap. Each names the machine it was drawn on; a missing figure (NaN) leaves its point out.
 */
final class SweepCharts {
    static final int WIDTH = 960;
    static final int HEIGHT = 540;
    private static final Color COLD = new Color(0x1f77b4);
    private static final Color WARM = new Color(0xd62728);
    private static final Color SECOND = new Color(0x7f7f7f);
    private static final Color THIRD = new Color(0x2ca02c);

    private SweepCharts() {
    }

    /** One line of a chart: a figure of each point, on the left axis (group 0) or the right one (group 1). */
    private record Line(String name, ToDoubleFunction<Sweep.Point> y, int group, Color color) {
    }

    /** Writes every chart the points allow; returns the files written. */
    static List<Path> write(List<Sweep.Point> points, Path dir, String machine) throws IOException {
        String where = machine.contains(", Linux") ? machine.substring(0, machine.indexOf(", Linux")) : machine;
        List<Path> written = new ArrayList<>();
        chart(written, dir.resolve("sweep-distinct.png"), of(points, Sweep.DISTINCT),
                "Throughput against distinct values (5 % bad) · " + where, "distinct indicator values (log)", true,
                x -> x, "alerts/s", "MISP requests per 1,000 alerts (warm)", List.of(
                        new Line("cold pass (every value new)", Sweep.Point::coldAlertsPerSecond, 0, COLD),
                        new Line("warm (values at random from the pool)", Sweep.Point::warmAlertsPerSecond, 0, WARM),
                        new Line("MISP requests / 1,000 alerts, warm", Sweep.Point::warmMispPer1000, 1, SECOND)));
        chart(written, dir.resolve("sweep-bad-share.png"), of(points, Sweep.BAD_SHARE),
                "Throughput against the share of values MISP knows (10,000 distinct) · " + where,
                "values known to MISP (%)", false, x -> x * 100, "alerts/s", "service CPU per alert, warm (µs)", List.of(
                        new Line("cold pass", Sweep.Point::coldAlertsPerSecond, 0, COLD),
                        new Line("warm", Sweep.Point::warmAlertsPerSecond, 0, WARM),
                        new Line("JVM µs/alert", Sweep.Point::jvmMicros, 1, SECOND),
                        new Line("PostgreSQL µs/alert", Sweep.Point::postgresMicros, 1, THIRD)));
        List<Sweep.Point> mirror = of(points, Sweep.MIRROR);
        chart(written, dir.resolve("sweep-mirror.png"), mirror,
                "Throughput against the local mirror's size (lookups from memory) · " + where,
                "attributes in the mirror (log)", true, x -> x, "alerts/s", "heap after a full GC (MiB)", List.of(
                        new Line("warm, answered from the mirror", Sweep.Point::warmAlertsPerSecond, 0, WARM),
                        new Line("heap after a full GC", Sweep.Point::heapMib, 1, SECOND)));
        chart(written, dir.resolve("sweep-mirror-load.png"), mirror,
                "Local mirror: first pull and heap per attribute · " + where, "attributes in the mirror (log)", true,
                x -> x, "seconds", "heap per attribute added (bytes)", List.of(
                        new Line("start until ready", Sweep.Point::readySeconds, 0, COLD),
                        new Line("ready until the first copy is held", Sweep.Point::mirrorLoadSeconds, 0, WARM),
                        new Line("heap per attribute added (from the smaller size)", marginalHeap(mirror), 1, SECOND)));
        return written;
    }

    /**
     * Heap after GC added per attribute between a size and the next smaller one: the service's own heap (rules,
     * caches, pools) is in both and drops out.
     */
    static ToDoubleFunction<Sweep.Point> marginalHeap(List<Sweep.Point> sorted) {
        return p -> {
            int i = sorted.indexOf(p);
            if (i <= 0) {
                return Double.NaN;
            }
            Sweep.Point before = sorted.get(i - 1);
            long added = p.mirrorAttributes() - before.mirrorAttributes();
            return added > 0 ? (p.heapMib() - before.heapMib()) * 1024 * 1024 / added : Double.NaN;
        };
    }

    private static List<Sweep.Point> of(List<Sweep.Point> points, String series) {
        return points.stream().filter(p -> p.series().equals(series)).sorted((a, b) -> Double.compare(a.x(), b.x()))
                .toList();
    }

    private static void chart(List<Path> written, Path file, List<Sweep.Point> points, String title, String xTitle,
                              boolean logX, ToDoubleFunction<Double> xScale, String leftTitle, String rightTitle,
                              List<Line> lines) throws IOException {
        if (points.isEmpty()) {
            return;
        }
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle)
                .yAxisTitle(leftTitle).build();
        var styler = chart.getStyler();
        styler.setXAxisLogarithmic(logX);
        styler.setLegendPosition(Styler.LegendPosition.OutsideS);
        styler.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setPlotBackgroundColor(Color.WHITE);
        styler.setMarkerSize(8);
        styler.setYAxisMin(0, 0.0);
        styler.setYAxisMin(1, 0.0);
        styler.setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
        styler.putYAxisGroupDecimalPatternMap(0, "#,##0.#");
        styler.putYAxisGroupDecimalPatternMap(1, "#,##0.##");
        styler.setXAxisDecimalPattern(logX ? "#,##0" : "#,##0.#");
        boolean right = false;
        for (Line line : lines) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (Sweep.Point p : points) {
                double y = line.y().applyAsDouble(p);
                if (Double.isFinite(y)) {
                    xs.add(xScale.applyAsDouble(p.x()));
                    ys.add(y);
                }
            }
            if (xs.isEmpty()) {
                continue;
            }
            XYSeries s = chart.addSeries(line.name(), xs, ys);
            s.setYAxisGroup(line.group());
            s.setLineColor(line.color());
            s.setMarkerColor(line.color());
            s.setMarker(line.group() == 0 ? SeriesMarkers.CIRCLE : SeriesMarkers.DIAMOND);
            right |= line.group() == 1;
        }
        if (chart.getSeriesMap().isEmpty()) {
            return;
        }
        if (right) {
            chart.setYAxisGroupTitle(1, rightTitle);
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
        written.add(file);
    }
}
