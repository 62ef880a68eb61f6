package org.sparkslim.compression.quant;

import java.util.Locale;

/**
 * How an activation's clipping range is chosen from its histogram of absolute values:
 * <ul>
 *   <li>{@code abs_max}: the largest value seen (no clipping, coarse steps when outliers exist);</li>
 *   <li>{@code percentile}: the value below which a given fraction of all values lie;</li>
 *   <li>{@code kl}: the range whose quantized distribution is closest, in KL divergence, to the
 *   observed one (the entropy calibration of TensorRT);</li>
 *   <li>{@code mse}: the range with the smallest expected squared quantization error, clipping
 *   included.</li>
 * </ul>
 */
public enum Calibration {
    ABS_MAX, PERCENTILE, KL, MSE;

    public static Calibration parse(String name) {
        for (Calibration c : values()) {
            if (c.name().toLowerCase(Locale.ROOT).equals(name)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown calibration '" + name + "'; use abs_max, percentile, kl or mse");
    }

    /**
     * @param grid the integer grid the range is mapped onto (its number of levels matters)
     * @param percentile for {@link #PERCENTILE}, e.g. 0.9999
     * @return the clipping range (the scale is {@code range / grid.levels()})
     */
    public double range(Histogram h, ActivationGrid grid, double percentile) {
        return switch (this) {
            case ABS_MAX -> h.absMax();
            case PERCENTILE -> percentileRange(h, percentile);
            case KL -> klRange(h, grid);
            case MSE -> mseRange(h, grid);
        };
    }

    static double percentileRange(Histogram h, double percentile) {
        long[] bins = h.bins();
        long total = h.count();
        long target = (long) Math.ceil(total * percentile);
        long seen = 0;
        for (int i = 0; i < bins.length; i++) {
            seen += bins[i];
            if (seen >= target) {
                return Math.min(h.absMax(), (i + 1) * h.binWidth());
            }
        }
        return h.absMax();
    }

    /**
     * For each candidate number of bins kept, folds the tail into the last kept bin (the reference
     * distribution P), merges the kept bins into {@code qmax + 1} levels and spreads each level back
     * over its non-empty bins (Q), and keeps the candidate with the smallest KL(P || Q).
     */
    static double klRange(Histogram h, ActivationGrid grid) {
        long[] bins = h.bins();
        int levels = grid.levels() + 1;
        if (bins.length <= levels) {
            return h.absMax();
        }
        double best = Double.POSITIVE_INFINITY;
        int bestBins = bins.length;
        for (int kept = levels; kept <= bins.length; kept++) {
            double[] p = new double[kept];
            for (int i = 0; i < kept; i++) {
                p[i] = bins[i];
            }
            for (int i = kept; i < bins.length; i++) {
                p[kept - 1] += bins[i];
            }
            double[] q = new double[kept];
            for (int level = 0; level < levels; level++) {
                int from = (int) ((long) level * kept / levels);
                int to = (int) ((long) (level + 1) * kept / levels);
                double sum = 0;
                int nonZero = 0;
                for (int i = from; i < to; i++) {
                    sum += bins[i];
                    nonZero += bins[i] > 0 ? 1 : 0;
                }
                for (int i = from; i < to; i++) {
                    q[i] = bins[i] > 0 ? sum / nonZero : 0;
                }
            }
            double kl = divergence(p, q);
            if (kl < best) {
                best = kl;
                bestBins = kept;
            }
        }
        return Math.min(h.absMax(), bestBins * h.binWidth());
    }

    private static double divergence(double[] p, double[] q) {
        double ps = 0;
        double qs = 0;
        for (int i = 0; i < p.length; i++) {
            ps += p[i];
            qs += q[i];
        }
        if (ps == 0 || qs == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double kl = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                double pi = p[i] / ps;
                double qi = q[i] / qs;
                kl += qi > 0 ? pi * Math.log(pi / qi) : pi * Math.log(pi / 1e-12);
            }
        }
        return kl;
    }

    /** Expected squared error of quantizing the histogram's values (at bin centres) with each candidate range. */
    static double mseRange(Histogram h, ActivationGrid grid) {
        long[] bins = h.bins();
        double width = h.binWidth();
        double best = Double.POSITIVE_INFINITY;
        double bestRange = h.absMax();
        int candidates = 128;
        for (int c = 1; c <= candidates; c++) {
            double range = h.absMax() * c / candidates;
            double scale = grid.scale(range);
            double error = 0;
            for (int i = 0; i < bins.length; i++) {
                if (bins[i] == 0) {
                    continue;
                }
                double x = (i + 0.5) * width;
                double d = x - grid.fakeQuantize(x, scale);
                error += bins[i] * d * d;
            }
            if (error < best) {
                best = error;
                bestRange = range;
            }
        }
        return bestRange;
    }
}
