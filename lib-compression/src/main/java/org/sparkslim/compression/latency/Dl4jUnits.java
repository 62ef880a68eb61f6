package org.sparkslim.compression.latency;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.sparkslim.compression.data.ImageShape;

/** Splits a DL4J network into {@link Dl4jUnit}s, one per vertex, and builds a network of one unit alone, to time it. */
public final class Dl4jUnits {
    private Dl4jUnits() {
    }

    /** The units of {@code net}, in topological order, for images of {@code shape}. */
    public static List<Dl4jUnit> of(ComputationGraph net, ImageShape shape) {
        ComputationGraphConfiguration conf = net.getConfiguration();
        InputType image = InputType.convolutional(shape.height(), shape.width(), shape.channels());
        Map<String, InputType> outputTypes = conf.getLayerActivationTypes(image);
        List<Dl4jUnit> units = new ArrayList<>();
        for (String name : conf.getTopologicalOrderStr()) {
            if (conf.getNetworkInputs().contains(name)) {
                continue;
            }
            List<long[]> inputs = new ArrayList<>();
            for (String in : conf.getVertexInputs().get(name)) {
                inputs.add(atBatchOne(conf.getNetworkInputs().contains(in) ? image : outputTypes.get(in)));
            }
            GraphVertex vertex = conf.getVertices().get(name);
            String reads = inputs.stream().map(Dl4jUnits::dims).collect(Collectors.joining(", "));
            String what = describe(vertex);
            units.add(new Dl4jUnit(what + " params=" + params(vertex) + " (" + reads + ")",
                    what + " @" + reads, name, List.copyOf(inputs), atBatchOne(outputTypes.get(name))));
        }
        return units;
    }

    private static long[] atBatchOne(InputType type) {
        long[] dims = type.getShape(false);
        long[] shape = new long[dims.length + 1];
        shape[0] = 1;
        System.arraycopy(dims, 0, shape, 1, dims.length);
        return shape;
    }

    private static String dims(long[] shape) {
        return Arrays.stream(shape, 1, shape.length).mapToObj(Long::toString).collect(Collectors.joining("x", "[", "]"));
    }

    private static long params(GraphVertex vertex) {
        return vertex instanceof LayerVertex lv ? lv.getLayerConf().getLayer().initializer()
                .numParams(lv.getLayerConf().getLayer()) : 0;
    }

    /** The vertex's type and the settings that change its cost: kernel, stride, padding, pooling, activation. */
    private static String describe(GraphVertex vertex) {
        if (!(vertex instanceof LayerVertex lv)) {
            return vertex.toString();
        }
        Layer layer = lv.getLayerConf().getLayer();
        StringBuilder s = new StringBuilder(layer.getClass().getSimpleName());
        if (layer instanceof ConvolutionLayer conv) {
            s.append(" k=").append(Arrays.toString(conv.getKernelSize())).append(" s=")
                    .append(Arrays.toString(conv.getStride())).append(" p=").append(Arrays.toString(conv.getPadding()))
                    .append(' ').append(conv.getConvolutionMode());
        }
        if (layer instanceof SubsamplingLayer pool) {
            s.append(' ').append(pool.getPoolingType()).append(" k=").append(Arrays.toString(pool.getKernelSize()))
                    .append(" s=").append(Arrays.toString(pool.getStride()));
        }
        // a batch norm layer applies no activation, whatever its configuration inherits
        if (layer instanceof BaseLayer base && !(layer instanceof BatchNormalization)
                && base.getActivationFn() != null) {
            s.append(' ').append(base.getActivationFn());
        }
        if (layer instanceof ActivationLayer act) {
            s.append(' ').append(act.getActivationFn());
        }
        if (lv.getPreProcessor() != null) {
            s.append(" after ").append(lv.getPreProcessor().getClass().getSimpleName());
        }
        return s.toString();
    }

    /**
     * A network of {@code unit}'s vertex alone, with the parameters it has in {@code net}: one network
     * input per vertex input, the vertex as the output, or with {@code trail}, followed by a
     * {@link #trailOf trail}.
     */
    public static ComputationGraph networkOf(Dl4jUnit unit, ComputationGraph net, boolean trail) {
        String[] inputs = new String[unit.inputs().size()];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = "in" + i;
        }
        ComputationGraphConfiguration.GraphBuilder graph = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .graphBuilder().addInputs(inputs)
                .addVertex(unit.vertex(), net.getConfiguration().getVertices().get(unit.vertex()).clone(), inputs);
        if (trail) {
            graph.addLayer(TRAIL, identity(), unit.vertex()).setOutputs(TRAIL);
        } else {
            graph.setOutputs(unit.vertex());
        }
        ComputationGraph alone = new ComputationGraph(graph.build());
        alone.init();
        if (alone.numParams() > 0) {
            alone.getLayer(unit.vertex()).setParams(net.getLayer(unit.vertex()).params().dup());
        }
        return alone;
    }

    private static final String TRAIL = "trail";

    /**
     * A trail: an identity activation on {@code unit}'s output, alone. A network's output leaves DL4J's
     * workspaces as an array of its own, allocated and copied on every call, which the vertices inside
     * a network do not pay. Timed with a trail, less the trail alone, a vertex costs about what it costs
     * inside a network (docs/LATENCY.md: close at batch 1, high at batch 64).
     */
    public static ComputationGraph trailOf(Dl4jUnit unit) {
        ComputationGraph trail = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .graphBuilder().addInputs("in").addLayer(TRAIL, identity(), "in").setOutputs(TRAIL).build());
        trail.init();
        return trail;
    }

    private static ActivationLayer identity() {
        return new ActivationLayer.Builder().activation(Activation.IDENTITY).build();
    }
}
