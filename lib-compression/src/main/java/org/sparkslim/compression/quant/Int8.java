package org.sparkslim.compression.quant;

/**
 * Symmetric signed quantization to {@code bits} bits: {@code q = clamp(round(x / scale), -qmax, qmax)}
 * with {@code qmax = 2^(bits-1) - 1} and {@code scale = range / qmax}, zero point 0. Symmetric ranges
 * keep the int8 kernels simple (no zero-point corrections) and are what per-channel weight scales use.
 */
public final class Int8 {
    private Int8() {
    }

    public static int qmax(int bits) {
        if (bits < 2 || bits > 16) {
            throw new IllegalArgumentException("bits must be in [2, 16], got " + bits);
        }
        return (1 << (bits - 1)) - 1;
    }

    /** The scale that maps {@code [-range, range]} onto the integer grid; a zero range gets scale 1. */
    public static double scale(double range, int bits) {
        return range > 0 ? range / qmax(bits) : 1.0;
    }

    public static int quantize(double x, double scale, int bits) {
        int q = qmax(bits);
        long v = Math.round(x / scale);
        return (int) Math.max(-q, Math.min(q, v));
    }

    /** Quantize then dequantize: the value an integer kernel effectively sees. */
    public static double fakeQuantize(double x, double scale, int bits) {
        return quantize(x, scale, bits) * scale;
    }
}
