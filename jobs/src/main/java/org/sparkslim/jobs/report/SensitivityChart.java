package org.sparkslim.jobs.report;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.sparkslim.jobs.tables.SensitivityTable;

/**
 * The sensitivity curves as a PNG: val top-1 of the model against the ratio pruned, one line per
 * group, and one per removable residual block (to ratio 1).
 */
public final class SensitivityChart {
    private SensitivityChart() {
    }

    public static byte[] png(List<SensitivityTable.Point> points) throws IOException {
        XYChart chart = ChartImages.xy(560, "Sensitivity: val top-1 with one group pruned",
                "fraction of the group's channels removed", "val top-1 (%)");
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisMin(0.0).setXAxisMax(1.0);
        Map<String, TreeMap<Double, Double>> curves = new TreeMap<>();
        double baseline = Double.NaN;
        for (SensitivityTable.Point p : points) {
            if (p.baseline()) {
                baseline = p.top1();
                continue;
            }
            // a removed residual block is one point at ratio 1
            String series = p.size() == 1 && p.ratio() == 1.0 ? p.group() + " (block)" : p.group();
            curves.computeIfAbsent(series, g -> new TreeMap<>()).put(p.ratio(), 100 * p.top1());
        }
        for (Map.Entry<String, TreeMap<Double, Double>> e : curves.entrySet()) {
            List<Double> x = new ArrayList<>(List.of(0.0));
            List<Double> y = new ArrayList<>(List.of(100 * baseline));
            x.addAll(e.getValue().keySet());
            y.addAll(e.getValue().values());
            chart.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        return ChartImages.png(chart);
    }
}
