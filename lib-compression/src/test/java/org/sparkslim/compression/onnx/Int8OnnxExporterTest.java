package org.sparkslim.compression.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;
import onnx.Onnx;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.quant.ActivationRange;
import org.sparkslim.compression.quant.ActivationStatistics;
import org.sparkslim.compression.quant.BatchNormFolding;
import org.sparkslim.compression.quant.Calibration;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.QuantizationConfig;
import org.sparkslim.compression.quant.RangeFreezing;
import org.sparkslim.compression.quant.WeightQuantizer;

/** The int8 ONNX model computes what DL4J's fake-quantized network computes, with int8 operators. */
class Int8OnnxExporterTest {
    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "vgg", "mobilenetv1", "mobilenetv2"})
    void onnxRuntimeRunsTheInt8ModelLikeTheFakeQuantizedNetwork(String family) throws Exception {
        ComputationGraph net = TestNetworks.zoo(family);
        ComputationGraph q = FakeQuantization.insert(net, QuantizationConfig.DEFAULT);
        Nd4j.getRandom().setSeed(7);
        INDArray calibration = Nd4j.rand(DataType.FLOAT, 64, 1, 28, 28).subi(0.3).muli(2.5);
        ActivationStatistics stats = new ActivationStatistics(RangeFreezing.tensors(q), 1024);
        stats.observe(BatchNormFolding.fold(net), calibration);
        RangeFreezing.calibrate(q, stats, Calibration.ABS_MAX, 0);

        byte[] int8 = Int8OnnxExporter.export(q, TestNetworks.FASHION);
        byte[] float32 = OnnxExporter.export(net, TestNetworks.FASHION);
        assertTrue(int8.length * 3.5 < float32.length, family + ": int8 " + int8.length + " bytes vs float " + float32.length);
        Onnx.ModelProto model = Onnx.ModelProto.parseFrom(int8);
        long floatOps = model.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("Conv") || n.getOpType().equals("Gemm") || n.getOpType().equals("Add")).count();
        assertTrue(floatOps == 0, family + " has float convolutions, products or adds left");

        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 1, 28, 28).subi(0.3).muli(2.5);
        float[][] expected = q.outputSingle(false, x).toFloatMatrix();
        float[][] actual = run(int8, x);
        double maxDiff = 0;
        int agree = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                maxDiff = Math.max(maxDiff, Math.abs(expected[i][j] - actual[i][j]));
            }
            agree += argMax(expected[i]) == argMax(actual[i]) ? 1 : 0;
        }
        System.out.printf("%s: int8 %d bytes, float %d bytes, max probability difference %.4f, top-1 agreement %d/%d%n",
                family, int8.length, float32.length, maxDiff, agree, expected.length);
        assertTrue(maxDiff < 0.05, family + ": ONNX Runtime int8 differs from DL4J fake quantization by " + maxDiff);
        assertTrue(agree >= expected.length - 1, family + ": top-1 agrees on " + agree + " of " + expected.length);

        // the same model in QDQ form computes the same thing
        float[][] qdq = run(QdqOnnxExporter.export(q, TestNetworks.FASHION), x);
        int qdqAgree = 0;
        for (int i = 0; i < expected.length; i++) {
            qdqAgree += argMax(expected[i]) == argMax(qdq[i]) ? 1 : 0;
        }
        assertTrue(qdqAgree >= expected.length - 1, family + ": QDQ top-1 agrees on " + qdqAgree + " of " + expected.length);
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "mobilenetv2"})
    void layersLeftInFloatGetDequantizedAroundThem(String family) throws Exception {
        QuantizationConfig skip = new QuantizationConfig(WeightQuantizer.CHANNEL_WISE_ABS_MAX, 8, 8,
                ActivationRange.MOVING_AVERAGE_ABS_MAX, 0.9, 10, List.of("stem", "block3.dw", "stage2.block1.conv1"));
        INDArray x = Nd4j.rand(DataType.FLOAT, 32, 1, 28, 28).subi(0.3).muli(2.5);
        ComputationGraph q = TestNetworks.quantized(TestNetworks.zoo(family), skip, x);
        byte[] int8 = Int8OnnxExporter.export(q, TestNetworks.FASHION);
        List<String> ops = Onnx.ModelProto.parseFrom(int8).getGraph().getNodeList().stream().map(Onnx.NodeProto::getOpType).toList();
        assertTrue(ops.contains("Conv") && ops.contains("DequantizeLinear") && ops.contains("QLinearConv"), family + ": " + ops);

        float[][] expected = q.outputSingle(false, x).toFloatMatrix();
        float[][] actual = run(int8, x);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(argMax(expected[i]), argMax(actual[i]), family + " image " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet20"})
    void unfrozenRangesAreRefused(String family) {
        ComputationGraph q = FakeQuantization.insert(TestNetworks.zoo(family), QuantizationConfig.DEFAULT);
        assertThrows(IllegalArgumentException.class, () -> Int8OnnxExporter.export(q, TestNetworks.FASHION));
    }

    static float[][] run(byte[] model, INDArray x) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(model, new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.dup('c').data().asFloat()), x.shape());
             OrtSession.Result result = session.run(Map.of(OnnxExporter.INPUT, input))) {
            return (float[][]) result.get(0).getValue();
        }
    }

    private static int argMax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
