package org.sparkslim.compression.quant;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.sparkslim.compression.model.GraphEdit;
import org.sparkslim.compression.model.LayerKind;
import org.sparkslim.compression.util.NamePatterns;

/**
 * Turns a float network into its fake-quantized twin, the network QAT trains and the int8 export
 * reads:
 * <ol>
 *   <li>batch norms are folded into their convolutions first, so the weights that are
 *   fake-quantized are exactly the weights the int8 model stores;</li>
 *   <li>convolutions, depthwise convolutions and dense layers get {@link FakeQuantizedWeights};</li>
 *   <li>a {@link FakeQuantize} vertex named {@code <tensor>/quant} is put on every tensor an int8
 *   operation reads (convolution, dense, residual add, global average pooling) and on every such
 *   operation's result, taken after the ReLU / ReLU6 / max pooling that follow it, since those run on
 *   the int8 values for free. One quantizer per tensor, shared by all its readers.</li>
 * </ol>
 * A tensor's grid is unsigned when it cannot be negative (a ReLU output, or pooled / added from
 * such), signed otherwise. Layers matching a skip pattern keep float weights and are not int8
 * operations; their neighbours still are.
 */
public final class FakeQuantization {
    public static final String SUFFIX = "/quant";

    private FakeQuantization() {
    }

    /** The fake-quantized network; {@code net} is not changed. */
    public static ComputationGraph insert(ComputationGraph net, QuantizationConfig config) {
        ComputationGraph folded = BatchNormFolding.fold(net);
        GraphEdit edit = new GraphEdit(folded);
        ComputationGraphConfiguration conf = edit.conf;
        Topology topology = new Topology(conf);

        Set<String> int8Ops = new LinkedHashSet<>();
        for (String v : folded.getConfiguration().getTopologicalOrderStr()) {
            if (!conf.getNetworkInputs().contains(v) && isInt8Op(conf.getVertices().get(v))
                    && !NamePatterns.matchesAny(config.skip(), v)) {
                int8Ops.add(v);
            }
        }
        Set<String> tensors = new LinkedHashSet<>();
        for (String op : int8Ops) {
            tensors.addAll(conf.getVertexInputs().get(op));
            String end = topology.chainEnd(op);
            if (!conf.getNetworkOutputs().contains(end)) {
                tensors.add(end);
            }
        }

        Map<String, GraphVertex> vertices = edit.vertices;
        Map<String, List<String>> inputs = edit.inputs;
        for (String t : tensors) {
            String q = t + SUFFIX;
            FakeQuantize quantizer = new FakeQuantize(new ActivationGrid(config.activationBits(), !topology.nonNegative(t)),
                    config.activationRange(), config.movingAverageRate(), config.window());
            for (String reader : topology.readers(t)) {
                inputs.put(reader, inputs.get(reader).stream().map(i -> i.equals(t) ? q : i).toList());
            }
            edit.addLayer(q, quantizer, null, t);
        }
        for (String op : int8Ops) {
            if (layerOf(vertices.get(op)) instanceof BaseLayer layer) {
                layer.setWeightNoise(new FakeQuantizedWeights(config.weights(), config.weightBits()));
            }
        }
        ComputationGraph result = edit.build();
        GraphEdit.copyParams(folded, result);
        return result;
    }

    /**
     * The float network a fake-quantized one stands for: the same (folded) layers and weights,
     * without quantizers or weight rounding. The reference its per-layer errors are measured against.
     */
    public static ComputationGraph strip(ComputationGraph fakeQuantized) {
        GraphEdit edit = new GraphEdit(fakeQuantized);
        Map<String, String> removed = new LinkedHashMap<>();
        quantizers(fakeQuantized).keySet().forEach(q -> removed.put(q, tensorOf(fakeQuantized, q)));
        edit.bypass(removed);
        edit.vertices.values().forEach(v -> {
            if (layerOf(v) instanceof BaseLayer layer) {
                layer.setWeightNoise(null);
            }
        });
        ComputationGraph result = edit.build();
        GraphEdit.copyParams(fakeQuantized, result);
        return result;
    }

    /** Quantizer vertex name -> its configuration (the live object: freezing it changes the network). */
    public static Map<String, FakeQuantize> quantizers(ComputationGraph net) {
        Map<String, FakeQuantize> result = new LinkedHashMap<>();
        for (String v : net.getConfiguration().getTopologicalOrderStr()) {
            org.deeplearning4j.nn.api.Layer layer = net.getConfiguration().getVertices().get(v) instanceof LayerVertex
                    ? net.getLayer(v) : null;
            if (layer != null && layer.conf().getLayer() instanceof FakeQuantize q) {
                result.put(v, q);
            }
        }
        return result;
    }

    /** The tensor (vertex output) a quantizer vertex reads. */
    public static String tensorOf(ComputationGraph net, String quantizer) {
        return net.getConfiguration().getVertexInputs().get(quantizer).get(0);
    }

    /** Layers with fake-quantized weights, in topological order. */
    public static List<String> quantizedLayers(ComputationGraph net) {
        List<String> result = new ArrayList<>();
        for (String v : net.getConfiguration().getTopologicalOrderStr()) {
            if (net.getConfiguration().getVertices().get(v) instanceof LayerVertex
                    && net.getLayer(v).conf().getLayer() instanceof BaseLayer b
                    && b.getWeightNoise() instanceof FakeQuantizedWeights) {
                result.add(v);
            }
        }
        return result;
    }

    public static boolean isQuantized(ComputationGraph net) {
        return !quantizers(net).isEmpty();
    }

    /** Operations the int8 model runs on int8 tensors: weighted layers, additions, global average pooling. */
    static boolean isInt8Op(GraphVertex vertex) {
        LayerKind kind = LayerKind.of(vertex);
        return kind.hasWeights() || kind == LayerKind.ADD || kind == LayerKind.GLOBAL_AVG_POOL;
    }

    static boolean isConvolution(Layer layer) {
        return layer != null && LayerKind.of(layer).isConvolution();
    }

    /** Layers an int8 tensor passes through unchanged in kind: ReLU/ReLU6/identity (a clamp) and max pooling. */
    static boolean isPassThrough(GraphVertex vertex) {
        Layer layer = LayerKind.layerOf(vertex);
        return switch (LayerKind.of(vertex)) {
            case ACTIVATION -> {
                IActivation fn = ((ActivationLayer) layer).getActivationFn();
                yield fn instanceof ActivationReLU || fn instanceof ActivationReLU6 || fn instanceof ActivationIdentity;
            }
            case MAX_POOL -> ((SubsamplingLayer) layer).getConvolutionMode() == ConvolutionMode.Truncate;
            default -> false;
        };
    }

    static Layer layerOf(GraphVertex vertex) {
        return LayerKind.layerOf(vertex);
    }

    /** Readers of each vertex, the pass-through chains after an operation, and the sign of a tensor. */
    static final class Topology {
        private final ComputationGraphConfiguration conf;
        private final Map<String, List<String>> readers = new LinkedHashMap<>();

        Topology(ComputationGraphConfiguration conf) {
            this.conf = conf;
            conf.getVertexInputs().forEach((v, in) -> in.forEach(i -> readers.computeIfAbsent(i, k -> new ArrayList<>()).add(v)));
        }

        List<String> readers(String v) {
            return readers.getOrDefault(v, List.of());
        }

        /** Follows single readers through pass-through layers: where an operation's int8 result is taken. */
        String chainEnd(String v) {
            String t = v;
            Set<String> seen = new HashSet<>();
            while (readers(t).size() == 1 && !conf.getNetworkOutputs().contains(t) && seen.add(t)) {
                String next = readers(t).get(0);
                if (!isPassThrough(conf.getVertices().get(next))) {
                    break;
                }
                t = next;
            }
            return t;
        }

        /** Whether a tensor is non-negative by construction. */
        boolean nonNegative(String v) {
            if (conf.getNetworkInputs().contains(v)) {
                return false;
            }
            GraphVertex vertex = conf.getVertices().get(v);
            List<String> in = conf.getVertexInputs().get(v);
            Layer layer = layerOf(vertex);
            switch (LayerKind.of(vertex)) {
                case ADD:
                    return in.stream().allMatch(this::nonNegative);
                case ACTIVATION: {
                    IActivation fn = ((ActivationLayer) layer).getActivationFn();
                    return fn instanceof ActivationReLU || fn instanceof ActivationReLU6 || fn instanceof ActivationSoftmax
                            || (fn instanceof ActivationIdentity && nonNegative(in.get(0)));
                }
                case MAX_POOL, OTHER_POOL, GLOBAL_AVG_POOL, OTHER_GLOBAL_POOL:
                    return nonNegative(in.get(0));
                default:
                    break;
            }
            if (layer instanceof FakeQuantize) {
                return nonNegative(in.get(0));
            }
            if (layer instanceof BaseLayer b) {
                IActivation fn = b.getActivationFn();
                return fn instanceof ActivationReLU || fn instanceof ActivationReLU6 || fn instanceof ActivationSoftmax;
            }
            return false;
        }
    }
}
