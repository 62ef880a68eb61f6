package org.sparkslim.jobs.report;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.sparkslim.jobs.tables.SearchTrialsTable.Trial;

/**
 * A search's charts as PNGs: its trajectory (every candidate's reward in the order evaluated, the
 * path of accepted candidates, the best so far), and its front (val top-1 against MACs removed, or
 * against estimated latency under a latency limit).
 */
public final class SearchCharts {
    private SearchCharts() {
    }

    public static byte[] trajectory(List<Trial> trials) throws IOException {
        XYChart chart = ChartImages.xy("Search trajectory", "candidate (in the order evaluated)", "reward (val top-1, %)");
        List<Double> x = new ArrayList<>();
        List<Double> reward = new ArrayList<>();
        List<Double> acceptedX = new ArrayList<>();
        List<Double> accepted = new ArrayList<>();
        List<Double> best = new ArrayList<>();
        double bestSoFar = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < trials.size(); i++) {
            Trial t = trials.get(i);
            x.add((double) i);
            reward.add(100 * t.reward());
            bestSoFar = Math.max(bestSoFar, 100 * t.reward());
            best.add(bestSoFar);
            if (t.accepted()) {
                acceptedX.add((double) i);
                accepted.add(100 * t.reward());
            }
        }
        chart.addSeries("candidates", x, reward).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        if (!accepted.isEmpty()) {
            chart.addSeries("accepted", acceptedX, accepted).setMarker(SeriesMarkers.DIAMOND);
        }
        chart.addSeries("best so far", x, best).setMarker(SeriesMarkers.NONE);
        return ChartImages.png(chart);
    }

    public static byte[] front(List<Trial> trials) throws IOException {
        boolean latency = trials.stream().noneMatch(t -> Double.isNaN(t.latencyMs()));
        XYChart chart = ChartImages.xy("Every candidate", latency ? "estimated latency (ms)" : "MACs removed (%)",
                "val top-1 (%)");
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (Trial t : trials) {
            x.add(latency ? t.latencyMs() : 100 * t.reduction());
            y.add(100 * t.top1());
        }
        chart.addSeries("candidates", x, y).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        return ChartImages.png(chart);
    }
}
