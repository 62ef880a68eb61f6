package org.sparkslim.compression.search;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.sparkslim.compression.model.InvertedResidualLayout;
import org.sparkslim.compression.model.MobileNetV2;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.TestNetworks;

class ArchitectureSpaceTest {
    private static final ArchitectureSpace SPACE = new ArchitectureSpace(16, List.of(
            new ArchitectureSpace.StageChoices(new int[] {1}, new int[] {12, 16}, new int[] {1}, new int[] {3, 5}, 1),
            new ArchitectureSpace.StageChoices(new int[] {3, 6}, new int[] {16, 24}, new int[] {1, 2}, new int[] {3, 5}, 2),
            new ArchitectureSpace.StageChoices(new int[] {4, 6}, new int[] {32}, new int[] {2, 3}, new int[] {3}, 2),
            new ArchitectureSpace.StageChoices(new int[] {6}, new int[] {48, 64}, new int[] {2}, new int[] {3, 5}, 1)),
            256);

    @Test
    void theZooLayoutIsAPointOfTheSpaceAndBuildsTheZooNetwork() {
        int[] tokens = SPACE.tokensOf(InvertedResidualLayout.MOBILENET_V2);
        assertEquals(InvertedResidualLayout.MOBILENET_V2, SPACE.layout(tokens));
        MobileNetV2 zoo = new MobileNetV2();
        ModelCost cost = ModelCost.of(zoo.build(zoo.spec(zoo.baseWidths(), TestNetworks.FASHION, 10, 1)),
                TestNetworks.FASHION);
        // BENCHMARK.md's counts of the zoo's mobilenetv2
        assertEquals(10_571_664, cost.macs());
        assertEquals(149_098, cost.params());
    }

    @Test
    void everyPointBuildsTheNetworkItsTokensDescribe() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 5; i++) {
            int[] tokens = SPACE.tokens().random(random);
            InvertedResidualLayout layout = SPACE.layout(tokens);
            assertArrayEquals(tokens, SPACE.tokensOf(layout));
            MobileNetV2 family = new MobileNetV2(layout);
            ComputationGraph net = family.build(family.spec(family.baseWidths(), TestNetworks.FASHION, 10, 1));
            int block = 0;
            for (InvertedResidualLayout.StageRow row : layout.stages()) {
                for (int r = 0; r < row.repeats(); r++) {
                    block++;
                    DepthwiseConvolution2D dw = (DepthwiseConvolution2D) net.getLayer("block" + block + ".dw").conf()
                            .getLayer();
                    assertEquals(row.kernel(), dw.getKernelSize()[0], layout + " block " + block);
                    assertEquals(row.channels(), net.getLayer("block" + block + ".project").getParam("W").size(0));
                }
            }
            assertTrue(net.getVertex("block" + (block + 1) + ".dw") == null, layout + ": " + block + " blocks");
        }
    }

    @Test
    void aSampleIsSeededAndCoversTheSpace() {
        List<InvertedResidualLayout> sample = SPACE.sample(40, 11);
        assertEquals(sample, SPACE.sample(40, 11));
        assertNotEquals(sample, SPACE.sample(40, 12));
        // 40 uniform draws from 2^9 points: every stage's channel and kernel choices all appear
        int[] choices = {2, 2, 1, 2};
        for (int s = 0; s < choices.length; s++) {
            int stage = s;
            assertEquals(choices[s], sample.stream().map(l -> l.stages().get(stage).channels()).distinct().count());
            assertEquals(choices[s], sample.stream().map(l -> l.stages().get(stage).kernel()).distinct().count());
        }
    }

    @Test
    void aLayoutOutsideTheSpaceIsNamedByStageAndKind() {
        InvertedResidualLayout wide = new InvertedResidualLayout(16, List.of(
                new InvertedResidualLayout.StageRow(1, 16, 1, 1, 3), new InvertedResidualLayout.StageRow(6, 24, 2, 2, 3),
                new InvertedResidualLayout.StageRow(6, 40, 3, 2, 3), new InvertedResidualLayout.StageRow(6, 64, 2, 1, 3)),
                256);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SPACE.tokensOf(wide));
        assertTrue(e.getMessage().contains("stage 3") && e.getMessage().contains("channels 40")
                && e.getMessage().contains("[32]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ArchitectureSpace.StageChoices(new int[] {6},
                new int[] {16}, new int[] {1}, new int[] {4}, 1));
    }

    @Test
    void aLayoutSurvivesItsJson() {
        InvertedResidualLayout layout = SPACE.layout(SPACE.tokens().random(new SplittableRandom(3)));
        assertEquals(layout, InvertedResidualLayout.fromJson(layout.toJson(), "test"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InvertedResidualLayout.fromJson("{\"stem\": 16}", "nas/architecture.json"));
        assertTrue(e.getMessage().startsWith("nas/architecture.json: not a valid"), e.getMessage());
    }
}
