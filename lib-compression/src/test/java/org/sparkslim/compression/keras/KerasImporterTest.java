package org.sparkslim.compression.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ImportedModel;
import org.sparkslim.compression.model.LayerKind;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.TestPlans;

/**
 * Keras files written by TensorFlow.js's Layers API, a Keras implementation (make_fixtures.mjs beside
 * them: a residual network, a depthwise one with ReLU6 and leaky ReLU, one with concatenation and a
 * flattening before two dense layers, a Sequential one), imported through DL4J's Keras importer into this project's
 * layout.
 */
class KerasImporterTest {
    /** They compute what TensorFlow.js computed on a fixed input (channels last there, first here). */
    @ParameterizedTest
    @CsvSource({"tfjs-residual, true, 4", "tfjs-depthwise, false, 3", "tfjs-concat, false, 1",
            "tfjs-sequential, false, 1"})
    void kerasFilesComputeWhatTheirFrameworkComputedAndExportAgain(String name, boolean logits, int batchNorms)
            throws Exception {
        ImportedModel imported = KerasImporter.read(fixture(name + ".h5"), name);
        assertEquals(new ImageShape(1, 28, 28), imported.input());
        assertEquals(logits, imported.endedInLogits());
        INDArray input = reference(name, "input").permute(0, 3, 1, 2).dup('c');
        INDArray expected = reference(name, "output");
        if (logits) {
            expected = Transforms.softmax(expected, true);
        }
        INDArray actual = imported.net().outputSingle(false, input);
        assertTrue(expected.equalsWithEps(actual, 1e-4), name + ": largest difference " + expected.sub(actual).amaxNumber());
        assertEquals(batchNorms, imported.net().getConfiguration().getVertices().values().stream()
                .filter(v -> LayerKind.of(v) == LayerKind.BATCH_NORM).count(), "each batch norm a layer of its own");
        assertEquals(LayerKind.OUTPUT, LayerKind.of(imported.net().getOutputLayer(0).conf().getLayer()));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(OnnxExporter.export(imported.net(), imported.input()),
                new OrtSession.SessionOptions());
             OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(input.data().asFloat()), input.shape());
             OrtSession.Result result = session.run(Map.of(OnnxExporter.INPUT, x))) {
            assertTrue(actual.equalsWithEps(Nd4j.createFromArray((float[][]) result.get(0).getValue()), 1e-5));
        }
    }

    /** The channel graph of an imported Keras network (residual sum, depthwise, concatenation) prunes. */
    @ParameterizedTest
    @ValueSource(strings = {"tfjs-residual", "tfjs-depthwise", "tfjs-concat", "tfjs-sequential"})
    void importedKerasNetworksPrune(String name) throws Exception {
        ComputationGraph net = KerasImporter.read(fixture(name + ".h5"), name).net();
        ChannelGraph graph = ChannelGraph.of(net);
        assertFalse(graph.prunableGroups().isEmpty(), name + " has prunable groups");
        ComputationGraph pruned = Pruner.apply(net, TestPlans.everyOtherChannel(graph));
        INDArray input = reference(name, "input").permute(0, 3, 1, 2).dup('c');
        assertArrayEquals(new long[] {3, 10}, pruned.outputSingle(false, input).shape());
        assertTrue(ModelCost.of(pruned, TestNetworks.FASHION).macs() < ModelCost.of(net, TestNetworks.FASHION).macs());
    }

    /**
     * What does not convert is named, with why: a global max pooling; a batch norm over a flattened
     * map (Keras normalizes it per feature, the project's batch norm per channel); a softmax before
     * the last dense layer (only the classifier may end in one).
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "tfjs-unsupported.h5 | global_max | DL4J layer GlobalPoolingLayer",
            "tfjs-flat-batch-norm.h5 | flat_bn | reads a flattened feature map; only a Dense layer may",
            "tfjs-softmax-inside.h5 | classifier | a dense layer after a softmax; only the classifier may end in one"})
    void aLayerThatDoesNotConvertIsNamedWithWhyAndWhatConverts(String file, String layer, String why) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KerasImporter.read(fixture(file), file));
        assertTrue(e.getMessage().startsWith(file + ": cannot import layer '" + layer + "' (" + why + ")")
                && e.getMessage().contains("; the importer converts Conv2D, DepthwiseConv2D"), e.getMessage());
    }

    @Test
    void aFileThatIsNoKerasModelIsNamed(@TempDir Path dir) throws Exception {
        Path garbage = Files.write(dir.resolve("garbage.h5"), new byte[] {1, 2, 3, 4, 5});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> KerasImporter.read(garbage, "garbage.h5"));
        assertTrue(e.getMessage().startsWith("garbage.h5"), e.getMessage());
    }

    private static Path fixture(String file) throws Exception {
        return new File(KerasImporterTest.class.getResource("/keras/" + file).toURI()).toPath();
    }

    /** The fixture's input (channels last, as TensorFlow.js took it) or output. */
    private static INDArray reference(String name, String which) throws Exception {
        JsonNode node = new ObjectMapper().readTree(fixture(name + ".json").toFile()).get(which);
        float[] values = new float[node.get("values").size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = node.get("values").get(i).floatValue();
        }
        long[] shape = new long[node.get("shape").size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = node.get("shape").get(i).asLong();
        }
        return Nd4j.create(values, shape, 'c');
    }
}
