package org.sparkslim.compression.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.quant.BatchNormFolding;

class BatchNormRecalibrationTest {
    /** With one batch, inference with the new statistics computes what training mode computes on that batch. */
    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "mobilenetv2"})
    void inferenceMatchesTrainingModeOnTheCalibrationBatch(String family) {
        ComputationGraph net = TestNetworks.zoo(family);
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 64, 1, 28, 28);
        INDArray training = net.feedForward(new INDArray[] {x}, true, false).get(net.getConfiguration().getNetworkOutputs().get(0));
        double before = net.outputSingle(x).sub(training).amaxNumber().doubleValue();

        BatchNormRecalibration.recalibrate(net, TestBatches.of(List.of(new org.nd4j.linalg.dataset.DataSet(x, null))));
        double after = net.outputSingle(x).sub(training).amaxNumber().doubleValue();
        assertTrue(before > 0.05, "random statistics disagree with the batch: " + before);
        assertTrue(after < 1e-2 && after < before / 10, "max probability difference " + before + " before, " + after + " after");

        // the stem's batch norm sees the raw convolution output: its mean is exactly that channel mean
        String stemBn = net.getConfiguration().getVertexInputs().entrySet().stream()
                .filter(e -> net.getLayer(e.getKey()) != null
                        && net.getLayer(e.getKey()).conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization
                        && e.getValue().get(0).equals("stem"))
                .map(java.util.Map.Entry::getKey).findFirst().orElseThrow();
        INDArray conv = net.feedForward(x, false).get("stem");
        INDArray channelMean = conv.mean(0, 2, 3);
        assertEquals(0, net.getLayer(stemBn).getParam("mean").reshape(channelMean.shape()).sub(channelMean)
                .amaxNumber().doubleValue(), 1e-4);
        INDArray channelVar = conv.var(false, 0, 2, 3).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE);
        double eps = ((org.deeplearning4j.nn.conf.layers.BatchNormalization) net.getLayer(stemBn).conf().getLayer()).getEps();
        INDArray stored = BatchNormFolding.inferenceVariance(net.getLayer(stemBn)).reshape(channelVar.shape());
        assertEquals(0, stored.sub(channelVar.add(eps)).div(channelVar).amaxNumber().doubleValue(), 1e-3);
    }
}
