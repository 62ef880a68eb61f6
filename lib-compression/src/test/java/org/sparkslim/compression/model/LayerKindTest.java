package org.sparkslim.compression.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.compression.onnx.UnsupportedLayerException;

class LayerKindTest {
    private static Map<LayerKind, Integer> census(ComputationGraph net) {
        Map<LayerKind, Integer> counts = new EnumMap<>(LayerKind.class);
        net.getConfiguration().getVertices().values().forEach(v -> counts.merge(LayerKind.of(v), 1, Integer::sum));
        return counts;
    }

    @Test
    void theZooIsMadeOfKnownKinds() {
        Map<LayerKind, Integer> mobilenetv2 = census(TestNetworks.zoo("mobilenetv2"));
        assertEquals(8, mobilenetv2.get(LayerKind.DEPTHWISE_CONVOLUTION), "one per inverted residual block: " + mobilenetv2);
        assertEquals(5, mobilenetv2.get(LayerKind.ADD), "the identity shortcuts (stride 1, as many channels out as in)");
        assertEquals(1, mobilenetv2.get(LayerKind.OUTPUT));
        assertEquals(1, mobilenetv2.get(LayerKind.GLOBAL_AVG_POOL));
        Map<LayerKind, Integer> vgg = census(TestNetworks.zoo("vgg"));
        assertEquals(6, vgg.get(LayerKind.CONVOLUTION));
        assertEquals(3, vgg.get(LayerKind.MAX_POOL));
        for (String family : ModelZoo.names()) {
            Map<LayerKind, Integer> kinds = census(TestNetworks.zoo(family));
            assertFalse(kinds.containsKey(LayerKind.OTHER_LAYER) || kinds.containsKey(LayerKind.OTHER_VERTEX)
                    || kinds.containsKey(LayerKind.OTHER_CONVOLUTION), family + ": " + kinds);
        }
    }

    @Test
    void unknownLayersAreNamedAsSuchNotMistakenForKnownOnes() {
        assertEquals(LayerKind.OTHER_CONVOLUTION, LayerKind.of(new SeparableConvolution2D.Builder(3, 3).nOut(4).build()));
        assertEquals(LayerKind.OTHER_CONVOLUTION, LayerKind.of(new Convolution1DLayer.Builder(3).nOut(4).build()));
        assertEquals(LayerKind.OTHER_POOL, LayerKind.of(new SubsamplingLayer.Builder(PoolingType.AVG).build()));
        assertEquals(LayerKind.OTHER_LAYER, LayerKind.of(new LocalResponseNormalization.Builder().build()));
        assertEquals(LayerKind.OTHER_ELEMENTWISE, LayerKind.of(new ElementWiseVertex(ElementWiseVertex.Op.Product)));
        assertTrue(LayerKind.DEPTHWISE_CONVOLUTION.hasWeights() && LayerKind.OUTPUT.isFullyConnected());
        assertFalse(LayerKind.OTHER_CONVOLUTION.isConvolution());
    }

    /** The exporter says, in export terms, which vertex it cannot write and what it can. */
    @Test
    void anUnknownLayerIsRefusedByTheExporterWithItsName() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(6, 6, 1))
                .addLayer("lrn", new LocalResponseNormalization.Builder().build(), "in")
                .addLayer("fc", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "lrn")
                .setOutputs("fc").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        UnsupportedLayerException e = assertThrows(UnsupportedLayerException.class,
                () -> OnnxExporter.export(net, new org.sparkslim.compression.data.ImageShape(1, 6, 6)));
        assertTrue(e.getMessage().contains("'lrn' (LocalResponseNormalization)") && e.getMessage().contains("converts"),
                e.getMessage());
        assertFalse(e.getMessage().contains("prun"), "an export error does not talk about pruning: " + e.getMessage());
    }
}
