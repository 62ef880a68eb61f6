package org.sparkslim.compression.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.TestNetworks;

class BatchNormFoldingTest {
    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "vgg", "mobilenetv1", "mobilenetv2"})
    void foldedNetworkComputesTheSameFunction(String family) {
        ComputationGraph net = TestNetworks.zoo(family);
        ComputationGraph folded = BatchNormFolding.fold(net);
        long batchNorms = java.util.Arrays.stream(folded.getLayers())
                .filter(l -> l.conf().getLayer() instanceof BatchNormalization).count();
        assertEquals(0, batchNorms, family + ": every batch norm follows a convolution and folds");
        assertEquals(ModelCost.of(net, TestNetworks.FASHION).macs(), ModelCost.of(folded, TestNetworks.FASHION).macs());

        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28).subi(0.5).muli(3);
        INDArray a = net.outputSingle(false, x);
        INDArray b = folded.outputSingle(false, x);
        double diff = Math.abs(a.sub(b).maxNumber().doubleValue()) + Math.abs(b.sub(a).maxNumber().doubleValue());
        assertTrue(diff < 1e-5, family + ": folded outputs differ by " + diff);
    }
}
