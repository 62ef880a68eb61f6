package org.sparkslim.compression.data;

import java.io.Serializable;

/** The shape of one image, channels first (NCHW without the N). */
public record ImageShape(int channels, int height, int width) implements Serializable {
    public ImageShape {
        if (channels <= 0 || height <= 0 || width <= 0) {
            throw new IllegalArgumentException("image shape must be positive, got " + channels + "x" + height + "x" + width);
        }
    }

    public int pixels() {
        return channels * height * width;
    }

    @Override
    public String toString() {
        return channels + "x" + height + "x" + width;
    }
}
