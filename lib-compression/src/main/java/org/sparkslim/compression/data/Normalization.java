package org.sparkslim.compression.data;

import java.io.Serializable;
import java.util.Arrays;

/**
 * {@code x = (pixel / 255 - mean[c]) / std[c]}: one mean and deviation per channel, or one pair for
 * all channels.
 */
public record Normalization(double[] means, double[] stds) implements Serializable {
    /** The statistics of the Fashion-MNIST training images. */
    public static final Normalization FASHION_MNIST = new Normalization(0.2860, 0.3530);

    public Normalization {
        if (means.length == 0 || means.length != stds.length) {
            throw new IllegalArgumentException("normalization needs as many means as deviations, and at least one; got "
                    + Arrays.toString(means) + " and " + Arrays.toString(stds));
        }
        for (double std : stds) {
            if (!(std > 0)) {
                throw new IllegalArgumentException("normalization std must be positive, got " + std);
            }
        }
        means = means.clone();
        stds = stds.clone();
    }

    /** The same mean and deviation for every channel. */
    public Normalization(double mean, double std) {
        this(new double[] {mean}, new double[] {std});
    }

    /** The normalized value of {@code pixel} in channel {@code channel}. */
    public float apply(int pixel, int channel) {
        int c = means.length == 1 ? 0 : channel;
        return (float) ((pixel / 255.0 - means[c]) / stds[c]);
    }

    /**
     * The normalized value of each of the 256 pixel values of each channel, channel by channel, for fast
     * lookup: {@code table[c * 256 + pixel]}.
     *
     * @throws IllegalArgumentException when there are several means, but not one per channel
     */
    public float[] table(int channels) {
        if (means.length != 1 && means.length != channels) {
            throw new IllegalArgumentException("normalization has " + means.length + " means and deviations for images"
                    + " of " + channels + " channels; give one, or one per channel");
        }
        float[] t = new float[channels * 256];
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < 256; i++) {
                t[c * 256 + i] = apply(i, c);
            }
        }
        return t;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalization n && Arrays.equals(means, n.means) && Arrays.equals(stds, n.stds);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(means) + Arrays.hashCode(stds);
    }

    @Override
    public String toString() {
        return "Normalization(mean " + Arrays.toString(means) + ", std " + Arrays.toString(stds) + ")";
    }
}
