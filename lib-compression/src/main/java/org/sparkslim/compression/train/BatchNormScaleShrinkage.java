package org.sparkslim.compression.train;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * An L1 penalty on every batch norm's scale (gamma), applied as a proximal step after each update:
 * each scale moves toward 0 by the step's learning rate times the penalty, and stops there. Channels
 * the network can do without end with a scale of exactly 0, so pruning by {@code bn_scale} removes
 * them at little cost (network slimming). A subgradient added to the loss would only make them hover
 * around 0.
 */
public final class BatchNormScaleShrinkage {
    private BatchNormScaleShrinkage() {
    }

    /** Shrinks every batch norm scale of {@code net} in place by {@code amount} toward 0, not past it. */
    public static void apply(ComputationGraph net, double amount) {
        for (Layer layer : net.getLayers()) {
            if (layer.conf().getLayer() instanceof BatchNormalization) {
                INDArray gamma = layer.getParam("gamma");
                INDArray shrunk = Transforms.abs(gamma).subi(amount);
                Transforms.relu(shrunk, false);
                gamma.assign(Transforms.sign(gamma).muli(shrunk));
            }
        }
    }

    /** How many of a network's batch norm scales are exactly 0, out of how many. */
    public record ZeroScales(long zero, long total) {
        @Override
        public String toString() {
            return zero + " of " + total;
        }
    }

    public static ZeroScales zeroScales(ComputationGraph net) {
        long zero = 0;
        long total = 0;
        for (Layer layer : net.getLayers()) {
            if (layer.conf().getLayer() instanceof BatchNormalization) {
                INDArray gamma = layer.getParam("gamma");
                zero += gamma.length() - gamma.neq(0).castTo(DataType.INT64).sumNumber().longValue();
                total += gamma.length();
            }
        }
        return new ZeroScales(zero, total);
    }
}
