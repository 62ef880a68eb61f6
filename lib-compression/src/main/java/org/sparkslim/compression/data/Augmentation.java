package org.sparkslim.compression.data;

import java.io.Serializable;
import java.util.Random;

/**
 * Training augmentation: a random crop of the original size from the image zero-padded by
 * {@code padding} on each side, then a horizontal flip with probability {@code flipProbability}.
 *
 * <p>"Zero" is the zero pixel, so padding is black like the Fashion-MNIST background.
 */
public record Augmentation(int padding, double flipProbability) implements Serializable {
    public static final Augmentation NONE = new Augmentation(0, 0.0);
    public static final Augmentation CROP_AND_FLIP = new Augmentation(2, 0.5);

    public Augmentation {
        if (padding < 0 || flipProbability < 0 || flipProbability > 1) {
            throw new IllegalArgumentException("augmentation needs padding >= 0 and flip probability in [0, 1]");
        }
    }

    public boolean isIdentity() {
        return padding == 0 && flipProbability == 0;
    }

    /**
     * Writes the augmented, normalized image into {@code out} at {@code offset}.
     *
     * @param image  one image, channels first, one unsigned byte per value
     * @param lookup normalized value of each pixel value of each channel, see {@link Normalization#table}
     */
    public void apply(byte[] image, ImageShape shape, float[] lookup, Random random, float[] out, int offset) {
        int h = shape.height();
        int w = shape.width();
        int dy = 0;
        int dx = 0;
        boolean flip = false;
        if (padding > 0) {
            dy = random.nextInt(2 * padding + 1) - padding;
            dx = random.nextInt(2 * padding + 1) - padding;
        }
        if (flipProbability > 0) {
            flip = random.nextDouble() < flipProbability;
        }
        for (int c = 0; c < shape.channels(); c++) {
            int plane = c * h * w;
            int base = c * 256;
            float zero = lookup[base];
            for (int y = 0; y < h; y++) {
                int sy = y + dy;
                for (int x = 0; x < w; x++) {
                    int sx = (flip ? w - 1 - x : x) + dx;
                    float v = (sy < 0 || sy >= h || sx < 0 || sx >= w) ? zero : lookup[base + (image[plane + sy * w + sx] & 0xFF)];
                    out[offset + plane + y * w + x] = v;
                }
            }
        }
    }
}
