package org.sparkslim.compression.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.File;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.util.Map;
import onnx.Onnx;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkslim.compression.model.ImportedModel;
import org.sparkslim.compression.model.LayerKind;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.TestPlans;

class OnnxImporterTest {
    /** A zoo network written by the exporter and read back computes what it computed, with its layers. */
    @ParameterizedTest
    @ValueSource(strings = {"vgg", "resnet20", "mobilenetv1", "mobilenetv2"})
    void exportedZooNetworksImportToEqualNetworks(String family) {
        ComputationGraph original = TestNetworks.zoo(family);
        byte[] exported = OnnxExporter.export(original, TestNetworks.FASHION);
        ImportedModel imported = OnnxImporter.read(exported, family + ".onnx");
        assertEquals(TestNetworks.FASHION, imported.input());
        assertFalse(imported.endedInLogits(), "the exporter writes the softmax");
        ComputationGraph net = imported.net();
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, 8, 1, 28, 28);
        INDArray expected = original.outputSingle(false, x);
        INDArray actual = net.outputSingle(false, x);
        assertTrue(expected.equalsWithEps(actual, 1e-5), family + ": largest difference "
                + expected.sub(actual).amaxNumber());
        assertEquals(original.numParams(), net.numParams());
        assertEquals(ModelCost.of(original, TestNetworks.FASHION).macs(), ModelCost.of(net, TestNetworks.FASHION).macs());
        assertEquals(original.getConfiguration().getVertices().keySet().stream().filter(v -> !v.equals("input")).count(),
                net.getConfiguration().getVertices().keySet().stream().filter(v -> !v.equals("input")).count(),
                "one vertex per layer, batch norms kept apart from their convolutions");
    }

    /**
     * Networks written by PyTorch's exporter (make_fixtures.py beside them: residual, depthwise and
     * concatenating networks at opsets 11, 13 and 17) compute what PyTorch computed on a fixed input;
     * a network that ended in logits now ends in their softmax.
     */
    @ParameterizedTest
    @CsvSource({"torch-residual, true, 4", "torch-depthwise, false, 3", "torch-concat, true, 3"})
    void torchExportsImportComputeWhatTorchComputedAndExportAgain(String name, boolean logits, int batchNorms) throws Exception {
        File dir = new File(getClass().getResource("/onnx/" + name + ".onnx").toURI()).getParentFile();
        ImportedModel imported = OnnxImporter.read(Files.readAllBytes(new File(dir, name + ".onnx").toPath()),
                name);
        assertEquals(logits, imported.endedInLogits());
        INDArray input = Nd4j.createFromNpyFile(new File(dir, name + ".input.npy"));
        INDArray expected = Nd4j.createFromNpyFile(new File(dir, name + ".output.npy"));
        if (logits) {
            expected = Transforms.softmax(expected, true);
        }
        INDArray actual = imported.net().outputSingle(false, input);
        assertTrue(expected.equalsWithEps(actual, 1e-4), name + ": largest difference "
                + expected.sub(actual).amaxNumber());
        assertEquals(batchNorms, imported.net().getConfiguration().getVertices().values().stream()
                .filter(v -> LayerKind.of(v) == LayerKind.BATCH_NORM).count(), "each batch norm a layer of its own");
        // and goes back out: its export runs in ONNX Runtime to the same probabilities
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(OnnxExporter.export(imported.net(), imported.input()),
                new OrtSession.SessionOptions());
             OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input.dup('c').data().asFloat()), input.shape());
             OrtSession.Result result = session.run(Map.of(OnnxExporter.INPUT, x))) {
            assertTrue(actual.equalsWithEps(Nd4j.createFromArray((float[][]) result.get(0).getValue()), 1e-5));
        }
    }

    /** An imported network's channel graph (residual sums, concatenation, depthwise) prunes like a zoo network's. */
    @ParameterizedTest
    @ValueSource(strings = {"torch-residual", "torch-depthwise", "torch-concat"})
    void importedTorchNetworksPrune(String name) throws Exception {
        File dir = new File(getClass().getResource("/onnx/" + name + ".onnx").toURI()).getParentFile();
        ComputationGraph net = OnnxImporter.read(Files.readAllBytes(new File(dir, name + ".onnx").toPath()), name).net();
        ChannelGraph graph = ChannelGraph.of(net);
        assertFalse(graph.prunableGroups().isEmpty(), name + " has prunable groups");
        ComputationGraph pruned = Pruner.apply(net, TestPlans.everyOtherChannel(graph));
        INDArray input = Nd4j.createFromNpyFile(new File(dir, name + ".input.npy"));
        assertArrayEquals(new long[] {3, 10}, pruned.outputSingle(false, input).shape());
        assertTrue(ModelCost.of(pruned, TestNetworks.FASHION).macs() < ModelCost.of(net, TestNetworks.FASHION).macs());
    }

    @Test
    void anUnsupportedOperatorIsNamedWithTheOnesThatConvert() throws Exception {
        Onnx.ModelProto model = Onnx.ModelProto.parseFrom(OnnxExporter.export(TestNetworks.zoo("vgg"), TestNetworks.FASHION));
        Onnx.GraphProto.Builder graph = model.getGraph().toBuilder();
        int relu = 0;
        while (!graph.getNode(relu).getOpType().equals("Relu")) {
            relu++;
        }
        graph.setNode(relu, graph.getNode(relu).toBuilder().setOpType("Elu"));
        byte[] edited = model.toBuilder().setGraph(graph).build().toByteArray();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxImporter.read(edited, "edited.onnx"));
        assertTrue(e.getMessage().contains("cannot import node '" + graph.getNode(relu).getName() + "' (Elu)")
                && e.getMessage().contains("the importer converts Add, AveragePool, BatchNormalization, Clip"), e.getMessage());
        IllegalArgumentException garbage = assertThrows(IllegalArgumentException.class,
                () -> OnnxImporter.read(new byte[] {1, 2, 3, 4, 5}, "garbage.onnx"));
        assertTrue(garbage.getMessage().startsWith("garbage.onnx is not an ONNX model"), garbage.getMessage());
    }
}
