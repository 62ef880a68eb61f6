package org.sparkslim.jobs.settings;

import java.util.List;
import org.sparkslim.compression.quant.ActivationRange;
import org.sparkslim.compression.quant.QuantizationConfig;
import org.sparkslim.compression.quant.WeightQuantizer;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/** The {@code quant} section, shared by QAT and post-training quantization. */
public record QuantSettings(WeightQuantizer weights, int weightBits, int activationBits, List<String> skip,
                            int calibrationImages, int batchSize, int threadsPerTask) {
    public static QuantSettings read(SettingsReader r) {
        return new QuantSettings(r.parsed("quant.weights", WeightQuantizer::parse),
                r.integer("quant.weight-bits", Range.between(2, 16)), r.integer("quant.activation-bits", Range.between(2, 16)),
                r.strings("quant.skip"), r.integer("quant.calibration-images", Range.atLeast(1)),
                r.integer("quant.batch-size", Range.atLeast(1)), r.integer("quant.threads-per-task", Range.atLeast(1)));
    }

    /** The scheme with how activation ranges are tracked while training. */
    public QuantizationConfig scheme(ActivationRange activations, double movingAverageRate, int window) {
        return new QuantizationConfig(weights, weightBits, activationBits, activations, movingAverageRate, window, skip);
    }
}
