package org.sparkslim.compression.quant;

import java.util.Locale;

/**
 * Scales for a weight tensor: {@code abs_max} (one scale for the whole tensor) or
 * {@code channel_wise_abs_max} (one per output channel, which keeps small filters from being crushed
 * by a large one).
 */
public enum WeightQuantizer {
    ABS_MAX, CHANNEL_WISE_ABS_MAX;

    public static WeightQuantizer parse(String name) {
        for (WeightQuantizer q : values()) {
            if (q.name().toLowerCase(Locale.ROOT).equals(name)) {
                return q;
            }
        }
        throw new IllegalArgumentException("unknown weight quantizer '" + name + "'; use abs_max or channel_wise_abs_max");
    }

    /**
     * @param weights row {@code c} holds output channel {@code c}'s weights
     * @return one scale per output channel (all equal for {@link #ABS_MAX})
     */
    public double[] scales(double[][] weights, int bits) {
        double[] scales = new double[weights.length];
        double tensorMax = 0;
        for (int c = 0; c < weights.length; c++) {
            double m = 0;
            for (double w : weights[c]) {
                m = Math.max(m, Math.abs(w));
            }
            scales[c] = m;
            tensorMax = Math.max(tensorMax, m);
        }
        for (int c = 0; c < scales.length; c++) {
            scales[c] = Int8.scale(this == ABS_MAX ? tensorMax : scales[c], bits);
        }
        return scales;
    }
}
