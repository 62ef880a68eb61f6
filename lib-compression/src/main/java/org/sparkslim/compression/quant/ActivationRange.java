package org.sparkslim.compression.quant;

import java.util.Locale;

/**
 * Where a fake quantizer's activation range comes from while training:
 * <ul>
 *   <li>{@code dynamic}: each batch's own abs max (what a dynamically quantized runtime does);</li>
 *   <li>{@code moving_average_abs_max}: a range learned from training data,
 *   {@code r <- rate * r + (1 - rate) * absmax(batch)};</li>
 *   <li>{@code window_abs_max}: the largest batch abs max among the last {@code window} batches.</li>
 * </ul>
 * Freezing replaces any of them by a fixed range (the int8 model's scales).
 */
public enum ActivationRange {
    DYNAMIC, MOVING_AVERAGE_ABS_MAX, WINDOW_ABS_MAX;

    public static ActivationRange parse(String name) {
        for (ActivationRange r : values()) {
            if (r.configName().equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown activation range '" + name
                + "'; use dynamic, moving_average_abs_max or window_abs_max");
    }

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
