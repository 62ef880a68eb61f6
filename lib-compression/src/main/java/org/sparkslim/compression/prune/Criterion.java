package org.sparkslim.compression.prune;

import java.util.Arrays;
import java.util.Locale;
import org.sparkslim.compression.util.Suggestions;

/** How to rank a group's channels: lower scores are pruned first. */
public enum Criterion {
    /** Sum of absolute filter weights. */
    L1_NORM,
    /** Euclidean norm of the filter. */
    L2_NORM,
    /**
     * FPGM: the sum of a filter's distances to the other filters of its layer. A filter close to the
     * layer's geometric median is well replaced by the others, so it scores low.
     */
    GEOMETRY_MEDIAN,
    /** Absolute batch norm scale (gamma) of the channel. */
    BN_SCALE;

    /** The config name: {@code l1_norm}, {@code l2_norm}, {@code geometry_median}, {@code bn_scale}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Criterion parse(String name) {
        for (Criterion c : values()) {
            if (c.configName().equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown pruning criterion '" + name + "'" + Suggestions.didYouMean(name,
                Arrays.stream(values()).map(Criterion::configName).toList())
                + "; use l1_norm, l2_norm, geometry_median or bn_scale");
    }
}
