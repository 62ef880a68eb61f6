package org.sparkslim.jobs.report;

import java.io.IOException;
import java.util.List;
import org.knowm.xchart.CategoryChart;
import org.sparkslim.jobs.tables.QuantizationTables;

/** Each quantized layer's signal-to-quantization-noise ratio, in network order: the low bars are where int8 hurts. */
public final class QuantizationErrorChart {
    private QuantizationErrorChart() {
    }

    public static byte[] png(List<QuantizationTables.LayerSqnr> errors) throws IOException {
        CategoryChart chart = ChartImages.bars("Quantization error per layer", "layer", "SQNR (dB, higher is better)");
        chart.getStyler().setXAxisLabelRotation(60).setLegendVisible(false);
        chart.addSeries("SQNR", errors.stream().map(QuantizationTables.LayerSqnr::layer).toList(),
                errors.stream().map(QuantizationTables.LayerSqnr::sqnrDb).toList());
        return ChartImages.png(chart);
    }
}
