package org.sparkslim.jobs.report;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.sparkslim.compression.train.EpochSummary;

/** A training's curves by epoch: train and val loss on the left axis, val top-1 on the right. */
public final class TrainingChart {
    private TrainingChart() {
    }

    public static byte[] png(String title, List<EpochSummary> history) throws IOException {
        XYChart chart = ChartImages.xy(title, "epoch", "loss");
        List<Double> epochs = new ArrayList<>();
        List<Double> trainLoss = new ArrayList<>();
        List<Double> validatedEpochs = new ArrayList<>();
        List<Double> valLoss = new ArrayList<>();
        List<Double> valTop1 = new ArrayList<>();
        for (EpochSummary e : history) {
            epochs.add((double) e.epoch());
            trainLoss.add(e.trainLoss());
            if (!Double.isNaN(e.validationTop1())) {
                validatedEpochs.add((double) e.epoch());
                valLoss.add(e.validationLoss());
                valTop1.add(100 * e.validationTop1());
            }
        }
        chart.addSeries("train loss", epochs, trainLoss).setMarker(SeriesMarkers.CIRCLE);
        if (!validatedEpochs.isEmpty()) {
            chart.addSeries("val loss", validatedEpochs, valLoss).setMarker(SeriesMarkers.CIRCLE);
            chart.addSeries("val top-1 (%)", validatedEpochs, valTop1).setMarker(SeriesMarkers.DIAMOND).setYAxisGroup(1);
            chart.setYAxisGroupTitle(1, "val top-1 (%)");
        }
        chart.getStyler().setYAxisGroupPosition(1, org.knowm.xchart.style.Styler.YAxisPosition.Right);
        return ChartImages.png(chart);
    }
}
