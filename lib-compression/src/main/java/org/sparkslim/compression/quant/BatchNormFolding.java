package org.sparkslim.compression.quant;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkslim.compression.model.GraphEdit;
import org.sparkslim.compression.model.LayerKind;

/**
 * Folds each batch norm into the convolution before it, for inference: with {@code s = gamma / std},
 * the convolution's filters become {@code W * s} (per output channel) and it gains the bias
 * {@code beta + (b - mean) * s}. The folded network computes the same function in inference mode with
 * one layer fewer per convolution, which is what an int8 runtime executes.
 *
 * <p>A batch norm is folded only when its input is a standard or depthwise convolution whose output
 * nothing else reads; any other batch norm stays.
 */
public final class BatchNormFolding {
    private BatchNormFolding() {
    }

    /** A new network with the foldable batch norms folded; the original is not changed. */
    public static ComputationGraph fold(ComputationGraph net) {
        GraphEdit edit = new GraphEdit(net);
        Map<String, String> folded = foldable(edit.conf);
        if (folded.isEmpty()) {
            return net.clone();
        }
        edit.bypass(folded);
        folded.values().forEach(conv -> ((ConvolutionLayer) LayerKind.layerOf(edit.vertices.get(conv))).setHasBias(true));
        ComputationGraph result = edit.build();
        Map<String, String> convToBn = new LinkedHashMap<>();
        folded.forEach((bn, conv) -> convToBn.put(conv, bn));
        for (org.deeplearning4j.nn.api.Layer layer : result.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            org.deeplearning4j.nn.api.Layer source = net.getLayer(name);
            if (convToBn.containsKey(name)) {
                foldInto(layer, source, net.getLayer(convToBn.get(name)));
            } else {
                source.paramTable().forEach((k, p) -> layer.setParam(k, p.dup()));
            }
        }
        return result;
    }

    /** Batch norm name -> the convolution it folds into. */
    private static Map<String, String> foldable(ComputationGraphConfiguration conf) {
        Map<String, Integer> readers = new LinkedHashMap<>();
        conf.getVertexInputs().values().forEach(in -> in.forEach(i -> readers.merge(i, 1, Integer::sum)));
        conf.getNetworkOutputs().forEach(o -> readers.merge(o, 1, Integer::sum));
        Map<String, String> folded = new LinkedHashMap<>();
        conf.getVertices().forEach((name, vertex) -> {
            if (LayerKind.of(vertex) == LayerKind.BATCH_NORM) {
                List<String> in = conf.getVertexInputs().get(name);
                String conv = in.get(0);
                GraphVertex source = conf.getVertices().get(conv);
                if (in.size() == 1 && source != null && LayerKind.of(source).isConvolution() && readers.get(conv) == 1) {
                    folded.put(name, conv);
                }
            }
        });
        return folded;
    }

    /**
     * The variance a DL4J batch norm divides by in inference, as {@code sqrt(variance + eps)}. With
     * DL4J's log-std parameterization that is {@code (10^log10stdev)^2}: the stored std is squared and
     * eps is added again (the layer's own inference code does exactly this), so exports and folding
     * use the same value to give DL4J's outputs.
     */
    public static INDArray inferenceVariance(org.deeplearning4j.nn.api.Layer bn) {
        if (bn.paramTable().containsKey("log10stdev")) {
            INDArray std = Transforms.exp(bn.getParam("log10stdev").castTo(DataType.DOUBLE).mul(Math.log(10)), false);
            return std.mul(std);
        }
        return bn.getParam("var").castTo(DataType.DOUBLE);
    }

    private static void foldInto(org.deeplearning4j.nn.api.Layer target, org.deeplearning4j.nn.api.Layer conv,
                                 org.deeplearning4j.nn.api.Layer bn) {
        BatchNormalization bnConf = (BatchNormalization) bn.conf().getLayer();
        INDArray gamma = bn.getParam("gamma").castTo(DataType.DOUBLE);
        INDArray beta = bn.getParam("beta").castTo(DataType.DOUBLE);
        INDArray mean = bn.getParam("mean").castTo(DataType.DOUBLE);
        INDArray std = Transforms.sqrt(inferenceVariance(bn).add(bnConf.getEps()), false);
        INDArray scale = gamma.div(std);
        INDArray w = conv.getParam("W").castTo(DataType.DOUBLE).dup();
        long channels = scale.length();
        if (conv.conf().getLayer() instanceof DepthwiseConvolution2D) {
            w.muli(scale.reshape(1, 1, channels, 1));      // [kH, kW, C, 1]
        } else {
            w.muli(scale.reshape(channels, 1, 1, 1));      // [out, in, kH, kW]
        }
        INDArray b = conv.paramTable().containsKey("b") ? conv.getParam("b").castTo(DataType.DOUBLE).reshape(channels)
                : Nd4j.zeros(DataType.DOUBLE, channels);
        INDArray bias = beta.reshape(channels).add(b.sub(mean.reshape(channels)).mul(scale.reshape(channels)));
        target.setParam("W", w.castTo(target.getParam("W").dataType()).reshape(target.getParam("W").shape()));
        target.setParam("b", bias.castTo(target.getParam("b").dataType()).reshape(target.getParam("b").shape()));
    }
}
