package org.sparkslim.compression.quant;

import java.io.Serializable;

/**
 * A histogram of absolute activation values on {@code [0, max]} with a fixed number of bins. When a
 * larger value arrives the range doubles and neighbouring bins merge, so the histogram can be filled
 * batch after batch without knowing the range in advance. Mergeable (for partial histograms from
 * several Spark tasks).
 */
public final class Histogram implements Serializable {
    private final long[] bins;
    private double max;
    private double absMax;

    public Histogram(int bins) {
        if (bins < 8 || Integer.bitCount(bins) != 1) {
            throw new IllegalArgumentException("bins must be a power of two >= 8, got " + bins);
        }
        this.bins = new long[bins];
    }

    public void add(float[] values) {
        double batchMax = 0;
        for (float v : values) {
            batchMax = Math.max(batchMax, Math.abs(v));
        }
        absMax = Math.max(absMax, batchMax);
        if (max == 0) {
            max = batchMax > 0 ? batchMax : 0;
        }
        while (batchMax > max) {
            widen();
        }
        if (max == 0) {
            bins[0] += values.length;
            return;
        }
        double width = max / bins.length;
        for (float v : values) {
            int b = (int) (Math.abs(v) / width);
            bins[Math.min(bins.length - 1, b)]++;
        }
    }

    public Histogram merge(Histogram other) {
        while (other.max > max && max > 0) {
            widen();
        }
        if (max == 0) {
            max = other.max;
        }
        double ratio = other.max / max;
        for (int i = 0; i < other.bins.length; i++) {
            int target = (int) Math.min(bins.length - 1, Math.floor(i * ratio));
            bins[target] += other.bins[i];
        }
        absMax = Math.max(absMax, other.absMax);
        return this;
    }

    /** Doubles the range: bins 2i and 2i + 1 become bin i. */
    private void widen() {
        for (int i = 0; i < bins.length / 2; i++) {
            bins[i] = bins[2 * i] + bins[2 * i + 1];
        }
        for (int i = bins.length / 2; i < bins.length; i++) {
            bins[i] = 0;
        }
        max *= 2;
    }

    public long[] bins() {
        return bins.clone();
    }

    /** Upper edge of the last bin. */
    public double max() {
        return max;
    }

    /** The largest absolute value seen. */
    public double absMax() {
        return absMax;
    }

    public double binWidth() {
        return max / bins.length;
    }

    public long count() {
        long n = 0;
        for (long b : bins) {
            n += b;
        }
        return n;
    }
}
