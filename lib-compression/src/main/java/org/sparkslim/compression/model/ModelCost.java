package org.sparkslim.compression.model;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.ImageShape;

/**
 * The cost of a network for one input image: MACs (multiply-adds of convolutions and dense layers),
 * parameters (conv/dense weights and biases plus BatchNorm scale and shift, not BatchNorm's running
 * statistics), and the bytes its stored parameters take (all of them, running statistics included,
 * at the network's data type).
 */
public record ModelCost(List<LayerCost> layers, long storedParameterBytes) implements Serializable {
    public ModelCost {
        layers = List.copyOf(layers);
    }

    public long macs() {
        return layers.stream().mapToLong(LayerCost::macs).sum();
    }

    public long params() {
        return layers.stream().mapToLong(LayerCost::params).sum();
    }

    public LayerCost layer(String name) {
        return layers.stream().filter(l -> l.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no layer '" + name + "'"));
    }

    public static ModelCost of(ComputationGraph net, ImageShape input) {
        return of(net.getConfiguration(), input, net.numParams() * net.params().dataType().width());
    }

    /** The cost of a configuration that has not been built, e.g. a candidate pruning (stored bytes given). */
    public static ModelCost of(ComputationGraphConfiguration conf, ImageShape input, long storedParameterBytes) {
        Map<String, InputType> outputTypes = conf.getLayerActivationTypes(
                InputType.convolutional(input.height(), input.width(), input.channels()));
        List<LayerCost> layers = new ArrayList<>();
        // an unbuilt configuration has no topological order yet; the builder's order serves for sums
        List<String> order = conf.getTopologicalOrderStr() != null ? conf.getTopologicalOrderStr()
                : new ArrayList<>(conf.getVertices().keySet());
        for (String name : order) {
            GraphVertex vertex = conf.getVertices().get(name);
            Layer layer = LayerKind.layerOf(vertex);
            if (layer != null) {
                layers.add(new LayerCost(name, layer.getClass().getSimpleName(),
                        macs(name, layer, outputTypes.get(name)), params(layer)));
            }
        }
        return new ModelCost(layers, storedParameterBytes);
    }

    private static long macs(String name, Layer layer, InputType output) {
        LayerKind kind = LayerKind.of(layer);
        switch (kind) {
            case CONVOLUTION, DEPTHWISE_CONVOLUTION -> {
                if (!(output instanceof InputType.InputTypeConvolutional out)) {
                    throw new IllegalStateException("layer '" + name + "': expected a convolutional output, got " + output);
                }
                ConvolutionLayer conv = (ConvolutionLayer) layer;
                long positions = out.getHeight() * out.getWidth();
                long kernel = (long) conv.getKernelSize()[0] * conv.getKernelSize()[1];
                return kind == LayerKind.DEPTHWISE_CONVOLUTION ? positions * out.getChannels() * kernel
                        : positions * out.getChannels() * conv.getNIn() * kernel;
            }
            case DENSE, OUTPUT -> {
                FeedForwardLayer ff = (FeedForwardLayer) layer;
                return ff.getNIn() * ff.getNOut();
            }
            case OTHER_CONVOLUTION -> throw new UnsupportedOperationException("cost of " + layer.getClass().getSimpleName()
                    + " '" + name + "' is not counted; supported: ConvolutionLayer, DepthwiseConvolution2D");
            default -> {
                return 0;
            }
        }
    }

    private static long params(Layer layer) {
        if (LayerKind.of(layer) == LayerKind.BATCH_NORM) {
            BatchNormalization bn = (BatchNormalization) layer;
            return bn.isLockGammaBeta() ? 0 : 2 * bn.getNOut();
        }
        return layer.initializer().numParams(layer);
    }
}
