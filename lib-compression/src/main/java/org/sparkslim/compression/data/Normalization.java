package org.sparkslim.compression.data;

import java.io.Serializable;

/** {@code x = (pixel / 255 - mean) / std}, one mean and deviation for all channels. */
public record Normalization(double mean, double std) implements Serializable {
    /** The statistics of the Fashion-MNIST training images. */
    public static final Normalization FASHION_MNIST = new Normalization(0.2860, 0.3530);

    public Normalization {
        if (!(std > 0)) {
            throw new IllegalArgumentException("normalization std must be positive, got " + std);
        }
    }

    public float apply(int pixel) {
        return (float) ((pixel / 255.0 - mean) / std);
    }

    /** The normalized value of each of the 256 pixel values, for fast lookup. */
    public float[] table() {
        float[] t = new float[256];
        for (int i = 0; i < 256; i++) {
            t[i] = apply(i);
        }
        return t;
    }
}
