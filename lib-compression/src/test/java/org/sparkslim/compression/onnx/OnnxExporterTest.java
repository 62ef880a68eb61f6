package org.sparkslim.compression.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.model.InvertedResidualLayout;
import org.sparkslim.compression.model.MobileNetV2;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.quant.BatchNormFolding;

/** Every zoo model (and a searched layout), exported to ONNX and run by ONNX Runtime, gives DL4J's outputs. */
class OnnxExporterTest {
    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "vgg", "mobilenetv1", "mobilenetv2"})
    void onnxRuntimeMatchesDl4j(String family) throws Exception {
        // random batch norm statistics, so BN is exercised
        assertOnnxRuntimeMatches(family, TestNetworks.zoo(family));
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "mobilenetv2"})
    void foldedNetworksExportToo(String family) throws Exception {
        assertOnnxRuntimeMatches(family + " folded", BatchNormFolding.fold(TestNetworks.zoo(family)));
    }

    @Test
    void aSearchedLayoutWithFiveByFiveKernelsExportsToo() throws Exception {
        // 5x5 depthwise kernels at stride 2 pad unevenly in "same" mode; no expansion-1 shortcut to the stem
        InvertedResidualLayout layout = new InvertedResidualLayout(16, List.of(
                new InvertedResidualLayout.StageRow(1, 12, 1, 1, 5), new InvertedResidualLayout.StageRow(3, 24, 2, 2, 5),
                new InvertedResidualLayout.StageRow(4, 32, 1, 2, 3)), 64);
        MobileNetV2 family = new MobileNetV2(layout);
        assertOnnxRuntimeMatches("searched " + layout, TestNetworks.randomizeBatchNorm(
                family.build(family.spec(family.baseWidths(), TestNetworks.FASHION, 10, 5)), 5));
    }

    private static void assertOnnxRuntimeMatches(String family, ComputationGraph net) throws Exception {
        byte[] model = OnnxExporter.export(net, TestNetworks.FASHION);
        INDArray x = Nd4j.rand(DataType.FLOAT, 5, 1, 28, 28).subi(0.5).muli(3);
        float[][] expected = net.outputSingle(false, x).toFloatMatrix();

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(model, new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.dup('c').data().asFloat()),
                     new long[] {5, 1, 28, 28});
             OrtSession.Result result = session.run(Map.of(OnnxExporter.INPUT, input))) {
            float[][] actual = (float[][]) result.get(0).getValue();
            double maxDiff = 0;
            for (int i = 0; i < expected.length; i++) {
                for (int j = 0; j < expected[i].length; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(expected[i][j] - actual[i][j]));
                }
            }
            assertEquals(10, actual[0].length);
            assertTrue(maxDiff < 1e-5, family + ": ONNX Runtime differs from DL4J by " + maxDiff);
        }
    }
}
