package org.sparkslim.compression.quant;

/**
 * Symmetric signed integers of {@code bits} bits, as weights use them: values in
 * {@code [-qmax, qmax]} with {@code qmax = 2^(bits-1) - 1} and zero point 0, which keeps the int8
 * kernels free of zero-point corrections on the weight side.
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
}
