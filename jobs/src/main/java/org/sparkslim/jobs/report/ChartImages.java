package org.sparkslim.jobs.report;

import java.awt.Color;
import java.io.IOException;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;

/** The report's charts: XChart charts drawn without a display and written as PNGs. */
final class ChartImages {
    static final int WIDTH = 900;
    static final int HEIGHT = 480;

    private ChartImages() {
    }

    static XYChart xy(String title, String xAxis, String yAxis) {
        return xy(HEIGHT, title, xAxis, yAxis);
    }

    static XYChart xy(int height, String title, String xAxis, String yAxis) {
        headless();
        XYChart chart = new XYChartBuilder().width(WIDTH).height(height).title(title).xAxisTitle(xAxis).yAxisTitle(yAxis)
                .build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        return chart;
    }

    static CategoryChart bars(String title, String xAxis, String yAxis) {
        headless();
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xAxis)
                .yAxisTitle(yAxis).build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        return chart;
    }

    static byte[] png(Chart<?, ?> chart) throws IOException {
        return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    }

    /** Before the first chart: drawing must not look for a screen (executors and CI have none). */
    private static void headless() {
        System.setProperty("java.awt.headless", "true");
    }
}
