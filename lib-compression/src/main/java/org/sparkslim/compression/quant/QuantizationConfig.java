package org.sparkslim.compression.quant;

import java.io.Serializable;
import java.util.List;

/**
 * How a network is quantized: the weight quantizer and bit width, the activations' bit width and
 * range source, and the vertex-name patterns ({@code *}, {@code ?}) of layers left in float.
 */
public record QuantizationConfig(WeightQuantizer weights, int weightBits, int activationBits,
                                 ActivationRange activationRange, double movingAverageRate, int window,
                                 List<String> skip) implements Serializable {
    public static final QuantizationConfig DEFAULT = new QuantizationConfig(WeightQuantizer.CHANNEL_WISE_ABS_MAX, 8, 8,
            ActivationRange.MOVING_AVERAGE_ABS_MAX, 0.9, 100, List.of());

    public QuantizationConfig {
        Int8.qmax(weightBits);
        Int8.qmax(activationBits);
        if (!(movingAverageRate >= 0 && movingAverageRate < 1)) {
            throw new IllegalArgumentException("moving-average rate must be in [0, 1), got " + movingAverageRate);
        }
        if (window < 1) {
            throw new IllegalArgumentException("window must be at least 1, got " + window);
        }
        skip = List.copyOf(skip);
    }
}
