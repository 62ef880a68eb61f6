package org.sparkslim.compression.distill;

import java.util.Arrays;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The FSP matrix ("flow of solution procedure", Yim et al., 2017) of two feature maps of equal height
 * and width, as a graph vertex with its gradient: for inputs {@code a} of shape [n, ca, h, w] and
 * {@code b} of [n, cb, h, w], {@code G[i][j] = sum over positions s of a[i][s] * b[j][s] / (h * w)}, one
 * matrix per example, flattened row by row to [n, ca * cb]. A student learns the teacher's by a squared
 * error on these ({@link FeatureLosses}).
 */
public final class FspVertex extends GraphVertex {
    @Override
    public FspVertex clone() {
        return new FspVertex();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FspVertex;
    }

    @Override
    public int hashCode() {
        return FspVertex.class.hashCode();
    }

    @Override
    public long numParams(boolean backprop) {
        return 0;
    }

    @Override
    public int minVertexInputs() {
        return 2;
    }

    @Override
    public int maxVertexInputs() {
        return 2;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                       INDArray paramsView, boolean initializeParams,
                                                                       DataType networkDatatype) {
        return new Runtime(graph, name, idx, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... inputs) throws InvalidInputTypeException {
        if (inputs.length != 2 || !(inputs[0] instanceof InputType.InputTypeConvolutional a)
                || !(inputs[1] instanceof InputType.InputTypeConvolutional b)) {
            throw new InvalidInputTypeException("an FSP matrix needs two convolutional inputs, got "
                    + Arrays.toString(inputs));
        }
        if (a.getHeight() != b.getHeight() || a.getWidth() != b.getWidth()) {
            throw new InvalidInputTypeException("an FSP matrix needs two feature maps of one size, got "
                    + a.getHeight() + "x" + a.getWidth() + " and " + b.getHeight() + "x" + b.getWidth());
        }
        return InputType.feedForward(a.getChannels() * b.getChannels());
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputs) {
        return new LayerMemoryReport.Builder(null, FspVertex.class, inputs[0], getOutputType(-1, inputs))
                .standardMemory(0, 0).workingMemory(0, 0, 0, 0).cacheMemory(0, 0).build();
    }

    /** The FSP matrices of a batch: [n, ca * cb] from [n, ca, h, w] and [n, cb, h, w]. */
    public static INDArray matrices(INDArray a, INDArray b) {
        long n = a.size(0);
        long positions = a.size(2) * a.size(3);
        INDArray g = Nd4j.matmul(flat(a), flat(b), false, true, false).divi(positions);
        return g.reshape('c', n, a.size(1) * b.size(1));
    }

    /** [n, c, h, w] as [n, c, h * w], row-major. */
    private static INDArray flat(INDArray x) {
        INDArray c = x.ordering() == 'c' && !x.isView() ? x : x.dup('c');
        return c.reshape('c', x.size(0), x.size(1), x.size(2) * x.size(3));
    }

    /** The vertex in a network: no parameters, two inputs, the gradient with respect to both. */
    private static final class Runtime extends BaseGraphVertex {
        Runtime(ComputationGraph graph, String name, int index, DataType dataType) {
            super(graph, name, index, null, null, dataType);
        }

        @Override
        public boolean hasLayer() {
            return false;
        }

        @Override
        public Layer getLayer() {
            return null;
        }

        @Override
        public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
            if (!canDoForward()) {
                throw new IllegalStateException("FSP vertex '" + getVertexName() + "': inputs not set");
            }
            try (MemoryWorkspace ws = workspaceMgr.notifyScopeBorrowed(ArrayType.ACTIVATIONS)) {
                return matrices(inputs[0], inputs[1]);
            }
        }

        /**
         * With E the loss's gradient as [n, ca, cb] and S = h * w: dL/da = E b / S and dL/db = E^T a / S,
         * per example.
         */
        @Override
        public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
            if (!canDoBackward()) {
                throw new IllegalStateException("FSP vertex '" + getVertexName() + "': gradient not set");
            }
            INDArray a = inputs[0];
            INDArray b = inputs[1];
            long positions = a.size(2) * a.size(3);
            try (MemoryWorkspace ws = workspaceMgr.notifyScopeBorrowed(ArrayType.ACTIVATION_GRAD)) {
                INDArray e = epsilon.dup('c').reshape('c', a.size(0), a.size(1), b.size(1));
                INDArray da = Nd4j.matmul(e, flat(b), false, false, false).divi(positions).reshape('c', a.shape());
                INDArray db = Nd4j.matmul(e, flat(a), true, false, false).divi(positions).reshape('c', b.shape());
                return new Pair<>(null, new INDArray[] {da, db});
            }
        }

        @Override
        public void setBackpropGradientsViewArray(INDArray view) {
            if (view != null) {
                throw new IllegalArgumentException("an FSP vertex has no parameters");
            }
        }

        @Override
        public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] masks, MaskState state, int minibatchSize) {
            return null;
        }

        @Override
        public String toString() {
            return "FspVertex(" + getVertexName() + ")";
        }
    }
}
