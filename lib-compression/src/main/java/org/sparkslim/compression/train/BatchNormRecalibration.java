package org.sparkslim.compression.train;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Re-estimates every batch norm's running mean and variance from data under the network's current
 * weights (adaptive batch norm). Removing channels upstream changes what a batch norm sees, and its
 * stale statistics make a pruned network look far worse than it is before any fine-tuning, worst
 * for residual widths; re-estimated statistics rank pruning candidates by what they can recover.
 * The forward passes run in training mode, so each batch norm normalizes with its batch's own
 * statistics, as while training; the new running values are those statistics over all the images.
 */
public final class BatchNormRecalibration {
    private BatchNormRecalibration() {
    }

    /**
     * Replaces the running statistics of every batch norm in {@code net} with those of one pass over
     * {@code images} (their labels are not used); weights are untouched.
     */
    public static void recalibrate(ComputationGraph net, BatchSource images) {
        Iterator<DataSet> batches = images.epoch(0);
        if (!batches.hasNext()) {
            throw new IllegalArgumentException("batch norm recalibration needs at least one batch of images");
        }
        ComputationGraphConfiguration conf = net.getConfiguration();
        String networkInput = conf.getNetworkInputs().get(0);
        Map<String, String> inputOf = new LinkedHashMap<>();
        conf.getVertices().forEach((name, vertex) -> {
            if (vertex instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof BatchNormalization) {
                inputOf.put(name, conf.getVertexInputs().get(name).get(0));
            }
        });
        Map<String, INDArray> sum = new LinkedHashMap<>();
        Map<String, INDArray> sumOfSquares = new LinkedHashMap<>();
        Map<String, Long> count = new LinkedHashMap<>();
        while (batches.hasNext()) {
            INDArray batch = batches.next().getFeatures();
            Map<String, INDArray> activations = net.feedForward(new INDArray[] {batch}, true, false);
            inputOf.forEach((bn, input) -> {
                INDArray a = (input.equals(networkInput) ? batch : activations.get(input)).castTo(DataType.DOUBLE);
                int[] dims = a.rank() == 4 ? new int[] {0, 2, 3} : new int[] {0};
                sum.merge(bn, a.sum(dims), INDArray::addi);
                sumOfSquares.merge(bn, a.mul(a).sum(dims), INDArray::addi);
                count.merge(bn, a.length() / a.size(1), Long::sum);
            });
        }
        net.clearLayersStates();
        inputOf.keySet().forEach(bn -> {
            org.deeplearning4j.nn.api.Layer layer = net.getLayer(bn);
            double eps = ((BatchNormalization) layer.conf().getLayer()).getEps();
            INDArray mean = sum.get(bn).div(count.get(bn));
            INDArray variance = Transforms.max(sumOfSquares.get(bn).div(count.get(bn)).sub(mean.mul(mean)), 0.0, false);
            set(layer, "mean", mean);
            if (layer.paramTable().containsKey("log10stdev")) {
                // DL4J's training keeps log10 of sqrt(batch variance + eps)
                set(layer, "log10stdev", Transforms.log(variance.add(eps), 10, false).muli(0.5));
            } else {
                set(layer, "var", variance);
            }
        });
    }

    private static void set(org.deeplearning4j.nn.api.Layer layer, String param, INDArray value) {
        INDArray current = layer.getParam(param);
        layer.setParam(param, value.castTo(current.dataType()).reshape(current.shape()));
    }
}
