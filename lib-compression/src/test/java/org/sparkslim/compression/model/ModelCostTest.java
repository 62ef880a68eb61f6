package org.sparkslim.compression.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.sparkslim.compression.data.ImageShape;

class ModelCostTest {
    static final ImageShape FASHION = new ImageShape(1, 28, 28);

    static ComputationGraph build(String family, double multiplier) {
        ModelFamily f = ModelZoo.family(family);
        return f.build(f.spec(f.baseWidths().scaled(multiplier), FASHION, 10, 42));
    }

    /** The figures of the benchmark table, for 28x28 inputs. */
    @ParameterizedTest
    @CsvSource({
            "resnet20, 31021952, 272186",
            "vgg, 29128448, 288170",
            "mobilenetv1, 12201600, 136202",
            "mobilenetv2, 10571664, 149098"})
    void reproducesTheBenchmarkTable(String family, long macs, long params) {
        ModelCost cost = ModelCost.of(build(family, 1.0), FASHION);
        assertEquals(macs, cost.macs(), family + " MACs");
        assertEquals(params, cost.params(), family + " params");
    }

    @Test
    void countsEachLayerByItsShape() {
        ModelCost cost = ModelCost.of(build("resnet20", 1.0), FASHION);
        assertEquals(28L * 28 * 16 * 9, cost.layer("stem").macs());
        assertEquals(16L * 9, cost.layer("stem").params());
        assertEquals(32, cost.layer("stem.bn").params());
        assertEquals(0, cost.layer("stem.bn").macs());
        // stride 2 halves the map: 14x14 outputs, 1x1 projection 16 -> 32
        assertEquals(14L * 14 * 32 * 16, cost.layer("stage2.block1.shortcut").macs());
        assertEquals(64L * 10, cost.layer("fc").macs());
        assertEquals(64L * 10 + 10, cost.layer("fc").params());

        ModelCost mobile = ModelCost.of(build("mobilenetv1", 1.0), FASHION);
        // depthwise: one 3x3 filter per channel, at 14x14 after stride 2
        assertEquals(14L * 14 * 64 * 9, mobile.layer("block2.dw").macs());
        assertEquals(64L * 9, mobile.layer("block2.dw").params());
    }

    @Test
    void storedBytesIncludeBatchNormStatistics() {
        ComputationGraph net = build("vgg", 1.0);
        ModelCost cost = ModelCost.of(net, FASHION);
        assertEquals(net.numParams() * 4, cost.storedParameterBytes());
        assertTrue(net.numParams() > cost.params(), "DL4J also stores BN mean and variance");
    }

    @Test
    void narrowerMembersCostLess() {
        for (String family : ModelZoo.names()) {
            long full = ModelCost.of(build(family, 1.0), FASHION).macs();
            long half = ModelCost.of(build(family, 0.5), FASHION).macs();
            assertTrue(half < full / 2.5, family + ": halving widths should cut MACs by about 4x, got " + full + " -> " + half);
        }
    }

    @Test
    void unknownFamilySuggestsTheClosestName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelZoo.family("resnet2O"));
        assertTrue(e.getMessage().contains("did you mean 'resnet20'"), e.getMessage());
    }
}
