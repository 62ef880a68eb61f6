package org.sparkslim.compression.quant;

import java.io.Serializable;

/**
 * The integer grid an activation tensor lives on in the int8 model. Both kinds are stored as uint8,
 * the type ONNX Runtime's fastest x86 kernels take (u8 activations x s8 weights):
 * <ul>
 *   <li>unsigned (a ReLU or ReLU6 output): {@code q in [0, 2^b - 1]}, zero point 0, the range's top
 *   maps to {@code 2^b - 1}; clamping at the zero point is the ReLU, so it costs nothing;</li>
 *   <li>signed: {@code q in [-2^(b-1), 2^(b-1) - 1]}, stored with zero point {@code 2^(b-1)}; the
 *   range maps to {@code 2^(b-1) - 1} (symmetric, as an abs-max range is).</li>
 * </ul>
 * The fake quantizer in training clamps to exactly these integers, so DL4J's fake-quantized network
 * and the exported int8 model agree up to rounding.
 */
public record ActivationGrid(int bits, boolean signed) implements Serializable {
    public ActivationGrid {
        Int8.qmax(bits); // validates the bit width
    }

    /** The integer the top of the range maps to. */
    public int levels() {
        return signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
    }

    public int qmin() {
        return signed ? -(1 << (bits - 1)) : 0;
    }

    public int qmax() {
        return levels();
    }

    /** Zero point in the unsigned storage type. */
    public int zeroPoint() {
        return signed ? 1 << (bits - 1) : 0;
    }

    /** The step for a range (abs max); a zero range gets step 1 so that zeros stay zeros. */
    public double scale(double range) {
        return range > 0 ? range / levels() : 1.0;
    }

    public double fakeQuantize(double x, double scale) {
        return Math.max(qmin(), Math.min(qmax(), Math.rint(x / scale))) * scale;
    }
}
