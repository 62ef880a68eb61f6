package org.sparkslim.compression.quant;

import java.util.ArrayDeque;
import java.util.Deque;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkslim.compression.train.LearnedLayerState;

/** The running {@link FakeQuantize} layer: rounds forward, passes gradients straight through. */
public class FakeQuantizeLayer extends AbstractLayer<FakeQuantize> implements LearnedLayerState {
    /** Recent batch maxima for {@link ActivationRange#WINDOW_ABS_MAX} (training state, not in the model file). */
    private final Deque<Double> recentMaxima = new ArrayDeque<>();
    /** The scale the last forward pass used, for its backward pass. */
    private double lastScale = 1.0;

    public FakeQuantizeLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        FakeQuantize q = layerConf();
        double range = rangeFor(q, training);
        ActivationGrid grid = q.grid();
        lastScale = grid.scale(range);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(), input.shape(), 'c');
        out.assign(input).divi(lastScale);
        Transforms.round(out, false);
        Transforms.max(out, grid.qmin(), false);
        Transforms.min(out, grid.qmax(), false);
        return out.muli(lastScale);
    }

    private double rangeFor(FakeQuantize q, boolean training) {
        if (q.frozen()) {
            return q.range();
        }
        if (q.rangeSource() == ActivationRange.DYNAMIC) {
            return batchAbsMax();
        }
        if (!training) {
            return q.range() > 0 ? q.range() : batchAbsMax();
        }
        double batchMax = batchAbsMax();
        if (q.rangeSource() == ActivationRange.MOVING_AVERAGE_ABS_MAX) {
            q.learnRange(q.range() > 0 ? q.rate() * q.range() + (1 - q.rate()) * batchMax : batchMax);
        } else {
            recentMaxima.addLast(batchMax);
            while (recentMaxima.size() > q.window()) {
                recentMaxima.removeFirst();
            }
            q.learnRange(recentMaxima.stream().mapToDouble(Double::doubleValue).max().orElse(batchMax));
        }
        return q.range();
    }

    /** The range learned so far, then the window's batch maxima, oldest first. */
    @Override
    public double[] learnedState() {
        double[] state = new double[1 + recentMaxima.size()];
        state[0] = layerConf().range();
        int i = 1;
        for (double max : recentMaxima) {
            state[i++] = max;
        }
        return state;
    }

    @Override
    public void restoreLearnedState(double[] state) {
        if (!layerConf().frozen()) {
            layerConf().learnRange(state[0]);
        }
        recentMaxima.clear();
        for (int i = 1; i < state.length; i++) {
            recentMaxima.addLast(state[i]);
        }
    }

    private double batchAbsMax() {
        return input.amaxNumber().doubleValue();
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        ActivationGrid grid = layerConf().grid();
        double low = (grid.qmin() - 0.5) * lastScale;
        double high = (grid.qmax() + 0.5) * lastScale;
        INDArray inside = input.gte(low).castTo(epsilon.dataType()).muli(input.lte(high).castTo(epsilon.dataType()));
        INDArray grad = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, epsilon.dataType(), epsilon.shape(), 'c');
        grad.assign(epsilon).muli(inside);
        return new Pair<>(new DefaultGradient(), grad);
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public void clearNoiseWeightParams() {
        // no parameters
    }

    @Override
    public INDArray params() {
        return null;
    }

    @Override
    public Type type() {
        return Type.FEED_FORWARD;
    }
}
