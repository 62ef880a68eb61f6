package org.sparkslim.compression.runtime;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

/**
 * ReLU6 whose gradient is one pass over memory: ND4J's {@code relu6_bp} op takes about twenty times
 * as long as the forward clamp, which made the activation layers a quarter of a MobileNet training
 * step. Forward, and any input that is not dense float, stay with ND4J. It is a ReLU6 to every
 * {@code instanceof} check (the exporters, quantization), and {@link #installOn} puts it in place only
 * for as long as a training lasts, so that no saved configuration names it.
 */
public final class OnePassReLU6 extends ActivationReLU6 {
    /** Elements per piece of work, and pieces per task. */
    private static final int PIECE = 16_384;
    private static final int PIECES_PER_TASK = 4;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {
            new float[PIECE], new float[PIECE]});

    /** Activation layers of a network switched to {@link OnePassReLU6}; closing switches them back. */
    public static final class Installed implements AutoCloseable {
        private final List<ActivationLayer> layers;

        private Installed(List<ActivationLayer> layers) {
            this.layers = layers;
        }

        public int size() {
            return layers.size();
        }

        @Override
        public void close() {
            for (ActivationLayer layer : layers) {
                layer.setActivationFn(new ActivationReLU6());
            }
        }
    }

    /** Switches every ReLU6 activation layer of {@code net} to this gradient until the result is closed. */
    public static Installed installOn(ComputationGraph net) {
        List<ActivationLayer> switched = new ArrayList<>();
        for (Layer layer : net.getLayers()) {
            if (layer.conf().getLayer() instanceof ActivationLayer conf) {
                IActivation fn = conf.getActivationFn();
                if (fn.getClass() == ActivationReLU6.class) {
                    conf.setActivationFn(new OnePassReLU6());
                    switched.add(conf);
                }
            }
        }
        return new Installed(switched);
    }

    /** {@code in}: the layer's own copy of its input (DL4J's activation layer makes one), overwritten with the gradient. */
    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        if (!dense(in) || !dense(epsilon)) {
            return super.backprop(in, epsilon);
        }
        FloatBuffer x = in.data().asNioFloat();
        FloatBuffer dy = epsilon.data().asNioFloat();
        int length = (int) in.length();
        CoreSplit.run((length + PIECE - 1) / PIECE, PIECES_PER_TASK, (from, to) -> {
            float[][] scratch = SCRATCH.get();
            float[] v = scratch[0];
            float[] g = scratch[1];
            for (int piece = from; piece < to; piece++) {
                int start = piece * PIECE;
                int size = Math.min(PIECE, length - start);
                x.get(start, v, 0, size);
                dy.get(start, g, 0, size);
                for (int i = 0; i < size; i++) {
                    float value = v[i];
                    v[i] = value > 0f && value < 6f ? g[i] : 0f;
                }
                x.put(start, v, 0, size);
            }
        });
        return new Pair<>(in, null);
    }

    private static boolean dense(INDArray a) {
        return a.dataType() == DataType.FLOAT && a.ordering() == 'c' && a.offset() == 0
                && Shape.hasDefaultStridesForShape(a) && a.data().length() == a.length();
    }
}
