package org.sparkslim.compression;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.File;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import onnx.Onnx;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.onnx.OnnxImporter;

/** README's "Compress your own model" in Java, line for line, on a network PyTorch wrote. */
class CompressorTest {
    @TempDir
    Path dir;

    @Test
    void aForeignNetworkIsPrunedQuantizedAndExportedInAFewLines() throws Exception {
        Path model = dir.resolve("model.onnx");
        Files.copy(new File(getClass().getResource("/onnx/torch-residual.onnx").toURI()).toPath(), model);
        Nd4j.getRandom().setSeed(1);
        INDArray calibrationImages = Nd4j.rand(DataType.FLOAT, 64, 1, 28, 28);

        // -- as in README
        ComputationGraph net = OnnxImporter.read(Files.readAllBytes(model), model.toString()).net();
        byte[] onnx = Compressor.of(net, new ImageShape(1, 28, 28))
                .pruneUniformly(0.5)
                .quantize(calibrationImages)
                .onnx();
        Files.write(dir.resolve("model-int8.onnx"), onnx);
        // --

        Compressor pruned = Compressor.of(net, new ImageShape(1, 28, 28)).pruneUniformly(0.5);
        double reduction = 1 - ModelCost.of(pruned.network(), new ImageShape(1, 28, 28)).macs()
                / (double) ModelCost.of(net, new ImageShape(1, 28, 28)).macs();
        // 8 and 16 channels allow no finer steps: the closest uniform plan removes 44%
        assertEquals(0.5, reduction, 0.1, "MACs removed");
        Onnx.ModelProto int8 = Onnx.ModelProto.parseFrom(onnx);
        assertTrue(int8.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("QLinearConv")),
                "an int8 model");
        // ONNX Runtime runs it and agrees with the fake-quantized network DL4J computes
        INDArray x = calibrationImages.get(NDArrayIndex.interval(0, 16));
        INDArray expected = pruned.quantize(calibrationImages).network().outputSingle(false, x);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(onnx, new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.dup('c').data().asFloat()), x.shape());
             OrtSession.Result result = session.run(Map.of("input", input))) {
            float[][] actual = (float[][]) result.get(0).getValue();
            int agree = 0;
            for (int i = 0; i < actual.length; i++) {
                agree += Nd4j.createFromArray(actual[i]).argMax().getInt(0) == expected.getRow(i).argMax().getInt(0) ? 1 : 0;
            }
            assertTrue(agree >= 15, agree + " of 16 top classes agree");
        }
    }
}
