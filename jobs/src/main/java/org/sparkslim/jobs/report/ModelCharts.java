package org.sparkslim.jobs.report;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.sparkslim.jobs.tables.ExportsTable;
import org.sparkslim.jobs.tables.MetricsTable;

/**
 * Where a run's models sit against each other: top-1 against MACs and against latency, one labelled
 * point per model, so a compressed model's trade is read off at a glance.
 */
public final class ModelCharts {
    private ModelCharts() {
    }

    /** A labelled model on a chart. */
    private record Point(String label, double x, double y) {
    }

    public static byte[] top1AgainstMacs(List<MetricsTable.Metrics> metrics) throws IOException {
        return scatter("Top-1 against MACs", "MACs (millions)", metrics.stream()
                .map(m -> new Point(label(m), m.macs() / 1e6, 100 * m.top1())).toList());
    }

    /** Against DL4J's latency at the smallest batch size measured. */
    public static byte[] top1AgainstLatency(List<MetricsTable.Metrics> metrics) throws IOException {
        int batch = smallestBatch(metrics.get(0).latencyMs());
        return scatter("Top-1 against latency in DL4J (batch " + batch + ")", "median latency (ms)", metrics.stream()
                .map(m -> new Point(label(m), m.latencyMs().get(batch), 100 * m.top1())).toList());
    }

    /** The exports ONNX Runtime scored, against its latency at the smallest batch size; null when none was scored. */
    public static byte[] exportsTop1AgainstLatency(List<ExportsTable.Export> exports) throws IOException {
        List<ExportsTable.Export> scored = exports.stream().filter(e -> e.onnxTop1() != null).toList();
        if (scored.isEmpty()) {
            return null;
        }
        int batch = smallestBatch(scored.get(0).latencyMs());
        return scatter("Test top-1 against latency in ONNX Runtime (batch " + batch + ")", "median latency (ms)",
                scored.stream().map(e -> new Point(e.file(), e.latencyMs().get(batch), 100 * e.onnxTop1())).toList());
    }

    private static String label(MetricsTable.Metrics m) {
        return m.stage() + "/" + m.model();
    }

    private static int smallestBatch(Map<Integer, Double> millisByBatch) {
        return new TreeMap<>(millisByBatch).firstKey();
    }

    private static byte[] scatter(String title, String xAxis, List<Point> points) throws IOException {
        XYChart chart = ChartImages.xy(title, xAxis, "top-1 (%)");
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter).setMarkerSize(12);
        chart.getStyler().setXAxisDecimalPattern("#,##0.00");
        for (Point p : points) {
            chart.addSeries(p.label(), new double[] {p.x()}, new double[] {p.y()});
        }
        return ChartImages.png(chart);
    }
}
