package org.sparkslim.compression.quant;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkslim.compression.model.LayerKind;

/**
 * Symmetric int8 weights: {@code abs_max} (one scale for the whole tensor) or
 * {@code channel_wise_abs_max} (one per output channel, which keeps small filters from being crushed
 * by a large one). The integers are {@code round(w / scale)} in {@code [-qmax, qmax]}.
 */
public enum WeightQuantizer {
    ABS_MAX, CHANNEL_WISE_ABS_MAX;

    public static WeightQuantizer parse(String name) {
        for (WeightQuantizer q : values()) {
            if (q.name().toLowerCase(Locale.ROOT).equals(name)) {
                return q;
            }
        }
        throw new IllegalArgumentException("unknown weight quantizer '" + name + "'; use abs_max or channel_wise_abs_max");
    }

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The output-channel axis of a layer's {@code W}: convolution {@code [out, in, kH, kW]},
     * depthwise {@code [kH, kW, C, 1]}, dense {@code [in, out]}.
     */
    public static int outputAxis(Layer layer) {
        return switch (LayerKind.of(layer)) {
            case DEPTHWISE_CONVOLUTION -> 2;
            case CONVOLUTION -> 0;
            case DENSE, OUTPUT -> 1;
            default -> throw new IllegalArgumentException("no weight quantization for "
                    + layer.getClass().getSimpleName());
        };
    }

    /** One scale per output channel (all equal for {@link #ABS_MAX}), as a vector. */
    public INDArray scales(INDArray w, int axis, int bits) {
        int[] others = IntStream.range(0, w.rank()).filter(d -> d != axis).toArray();
        INDArray max = Transforms.abs(w.castTo(DataType.DOUBLE), true).max(others);
        if (this == ABS_MAX) {
            max.assign(max.maxNumber());
        }
        INDArray scales = max.div(Int8.qmax(bits));
        // an all-zero channel gets scale 1 (its integers are zeros either way)
        return scales.addi(scales.eq(0).castTo(DataType.DOUBLE));
    }

    /** The integer values {@code round(w / scale)}, clamped, in {@code w}'s shape (as doubles). */
    public INDArray integers(INDArray w, int axis, int bits) {
        INDArray s = broadcastShape(scales(w, axis, bits), w.rank(), axis);
        INDArray q = Transforms.round(w.castTo(DataType.DOUBLE).div(s), false);
        int qmax = Int8.qmax(bits);
        return Transforms.min(Transforms.max(q, -qmax, false), qmax, false);
    }

    /** {@code integers * scale}: the weights an int8 kernel effectively multiplies by. */
    public INDArray fakeQuantize(INDArray w, int axis, int bits) {
        INDArray s = broadcastShape(scales(w, axis, bits), w.rank(), axis);
        return integers(w, axis, bits).muli(s).castTo(w.dataType());
    }

    private static INDArray broadcastShape(INDArray perChannel, int rank, int axis) {
        long[] shape = new long[rank];
        Arrays.fill(shape, 1);
        shape[axis] = perChannel.length();
        return perChannel.reshape(shape);
    }

}
