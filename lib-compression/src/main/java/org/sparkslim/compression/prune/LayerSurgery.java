package org.sparkslim.compression.prune;

import java.util.Map;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.model.LayerKind;

/**
 * How to narrow one layer type: its new channel counts, and each parameter sliced to the kept
 * input and output channels. One implementation per layer type; {@link #forLayer} picks it.
 */
abstract class LayerSurgery {
    /** Sets the layer configuration's input and output widths. */
    void resize(Layer layer, int[] keptIn, int[] keptOut) {
        FeedForwardLayer ff = (FeedForwardLayer) layer;
        ff.setNIn(keptIn.length);
        ff.setNOut(keptOut.length);
    }

    /** The parameter {@code key} keeping only the given input and output positions. */
    abstract INDArray slice(String key, INDArray param, int[] keptIn, int[] keptOut);

    static LayerSurgery forLayer(String vertex, Layer layer) {
        return switch (LayerKind.of(layer)) {
            case DEPTHWISE_CONVOLUTION -> DEPTHWISE;
            case CONVOLUTION -> CONVOLUTION;
            case BATCH_NORM -> BATCH_NORM;
            case DENSE, OUTPUT -> DENSE;
            default -> throw new UnsupportedVertexException(vertex, layer.getClass().getSimpleName(),
                    "has no pruning surgery");
        };
    }

    /** Keeps {@code indices} along {@code dim}, all of every other dimension (a new, contiguous array). */
    static INDArray select(INDArray a, int dim, int[] indices) {
        if (indices.length == a.size(dim)) {
            return a;
        }
        long[] shape = a.shape();
        long outer = 1;
        long inner = 1;
        for (int d = 0; d < dim; d++) {
            outer *= shape[d];
        }
        for (int d = dim + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        long n = shape[dim];
        // ND4J's point-index views fail on parameter views; these tensors are small, so copy by hand.
        double[] src = a.dup('c').castTo(DataType.DOUBLE).data().asDouble();
        double[] dst = new double[(int) (outer * indices.length * inner)];
        int k = 0;
        for (long o = 0; o < outer; o++) {
            for (int index : indices) {
                System.arraycopy(src, (int) ((o * n + index) * inner), dst, k, (int) inner);
                k += (int) inner;
            }
        }
        long[] newShape = shape.clone();
        newShape[dim] = indices.length;
        return Nd4j.create(dst, newShape, 'c').castTo(a.dataType());
    }

    /** Convolution: W is [out, in, kH, kW], b is [out]. */
    static final LayerSurgery CONVOLUTION = new LayerSurgery() {
        @Override
        INDArray slice(String key, INDArray param, int[] keptIn, int[] keptOut) {
            return key.equals("W") ? select(select(param, 0, keptOut), 1, keptIn) : select(param, param.rank() - 1, keptOut);
        }
    };

    /** Depthwise convolution (multiplier 1): W is [kH, kW, channels, 1], b is [channels]. */
    static final LayerSurgery DEPTHWISE = new LayerSurgery() {
        @Override
        INDArray slice(String key, INDArray param, int[] keptIn, int[] keptOut) {
            return key.equals("W") ? select(param, 2, keptIn) : select(param, param.rank() - 1, keptOut);
        }
    };

    /** Batch norm: gamma, beta, mean and variance (or log10 std) are all [channels]. */
    static final LayerSurgery BATCH_NORM = new LayerSurgery() {
        @Override
        void resize(Layer layer, int[] keptIn, int[] keptOut) {
            super.resize(layer, keptOut, keptOut);
        }

        @Override
        INDArray slice(String key, INDArray param, int[] keptIn, int[] keptOut) {
            return select(param, param.rank() - 1, keptOut);
        }
    };

    /** Dense and output layers: W is [in, out], b is [out]. */
    static final LayerSurgery DENSE = new LayerSurgery() {
        @Override
        INDArray slice(String key, INDArray param, int[] keptIn, int[] keptOut) {
            return key.equals("W") ? select(select(param, 0, keptIn), 1, keptOut) : select(param, param.rank() - 1, keptOut);
        }
    };

    /** Parameter keys whose shapes this surgery changes; used to check the result. */
    static void checkShapes(String vertex, Map<String, INDArray> expected, Map<String, INDArray> sliced) {
        for (Map.Entry<String, INDArray> e : expected.entrySet()) {
            INDArray s = sliced.get(e.getKey());
            if (s == null || s.length() != e.getValue().length()) {
                throw new IllegalStateException("pruning '" + vertex + "': parameter " + e.getKey() + " has "
                        + (s == null ? "no value" : s.length() + " values") + ", the narrowed layer expects "
                        + e.getValue().length());
            }
        }
    }
}
