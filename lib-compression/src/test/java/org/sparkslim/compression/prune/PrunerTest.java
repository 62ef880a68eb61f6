package org.sparkslim.compression.prune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.TestNetworks;

class PrunerTest {
    static final ImageShape SHAPE = TestNetworks.FASHION;

    /** Random scores and a ratio per group: keeps between a quarter and three quarters of each group. */
    static PruningPlan randomPlan(ChannelGraph graph, long seed) {
        Random r = new Random(seed);
        Map<String, double[]> scores = new HashMap<>();
        Map<String, Double> ratios = new HashMap<>();
        for (ChannelGroup g : graph.prunableGroups()) {
            double[] s = new double[g.size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = r.nextDouble();
            }
            scores.put(g.name(), s);
            ratios.put(g.name(), 0.25 + 0.5 * r.nextDouble());
        }
        return new PlanBuilder(graph, scores, PruningScope.ALL, "random").plan(ratios);
    }

    /** The original network with the removed channels' batch norm outputs forced to zero. */
    static ComputationGraph zeroRemoved(ComputationGraph net, ChannelGraph graph, PruningPlan plan) {
        ComputationGraph ref = net.clone();
        for (PruningPlan.GroupPlan gp : plan.groups()) {
            boolean[] kept = new boolean[gp.size()];
            for (int k : gp.kept()) {
                kept[k] = true;
            }
            for (GroupMember m : graph.group(gp.group()).members(Role.CHANNELWISE)) {
                Layer bn = ref.getLayer(m.vertex());
                if (!(bn.conf().getLayer() instanceof BatchNormalization)) {
                    continue;
                }
                for (String key : List.of("gamma", "beta")) {
                    INDArray p = bn.getParam(key).dup();
                    for (int c = 0; c < kept.length; c++) {
                        if (!kept[c]) {
                            p.putScalar(c, 0);
                        }
                    }
                    bn.setParam(key, p);
                }
            }
        }
        return ref;
    }

    static double maxDiff(INDArray a, INDArray b) {
        return Math.abs(a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).maxNumber().doubleValue())
                + Math.abs(b.castTo(DataType.DOUBLE).sub(a.castTo(DataType.DOUBLE)).maxNumber().doubleValue());
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "vgg", "mobilenetv1", "mobilenetv2"})
    void prunedNetworkEqualsTheOriginalWithRemovedChannelsZeroed(String family) {
        ComputationGraph net = TestNetworks.zoo(family);
        ChannelGraph graph = ChannelGraph.of(net);
        PruningPlan plan = randomPlan(graph, 7);
        assertFalse(plan.groups().isEmpty());

        ComputationGraph pruned = Pruner.apply(net, plan);
        ComputationGraph reference = zeroRemoved(net, graph, plan);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28).subi(0.5).muli(2);
        Map<String, INDArray> a = pruned.feedForward(x, false);
        Map<String, INDArray> b = reference.feedForward(x, false);
        assertTrue(maxDiff(a.get("gap"), b.get("gap").get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.indices(keptOfOutputGroup(graph, plan, net)))) < 1e-5,
                family + ": pooled features differ");
        assertTrue(maxDiff(pruned.outputSingle(false, x), reference.outputSingle(false, x)) < 1e-5,
                family + ": outputs differ");
        assertKeptChannelsMatch(graph, plan, a, b, family);

        ModelCost before = ModelCost.of(net, SHAPE);
        ModelCost after = ModelCost.of(pruned, SHAPE);
        assertTrue(after.macs() < before.macs() && after.params() < before.params(), family);
        assertTrue(ModelFiles.toBytes(pruned).length < ModelFiles.toBytes(net).length, family + ": smaller file");
        ComputationGraph reloaded = ModelFiles.fromBytes(ModelFiles.toBytes(pruned), "test");
        assertEquals(pruned.outputSingle(false, x), reloaded.outputSingle(false, x), family + ": saves and loads");
    }

    /**
     * Removing residual blocks (with channels pruned around them) equals the original network with those
     * blocks' branches silenced: their last batch norm's scale and shift at zero, so each addition passes
     * its input on.
     */
    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "mobilenetv2"})
    void removedBlocksEqualTheOriginalWithTheirBranchesSilenced(String family) {
        ComputationGraph net = TestNetworks.zoo(family);
        ChannelGraph graph = ChannelGraph.of(net);
        List<ResidualBlock> blocks = graph.residualBlocks();
        // resnet20: every block without a projection shortcut (3 + 2 + 2); mobilenetv2: stride 1 and in = out
        assertEquals(family.equals("resnet20") ? 7 : 5, blocks.size(), blocks.toString());
        // all but the second: consecutive blocks go too (in mobilenetv2 one block's addition is the next one's input)
        List<String> removed = java.util.stream.IntStream.range(0, blocks.size()).filter(i -> i != 1)
                .mapToObj(i -> blocks.get(i).name()).toList();
        PruningPlan channels = randomPlan(graph, 11);
        PruningPlan plan = new PruningPlan(channels.criterion(), channels.groups(), removed);

        ComputationGraph pruned = Pruner.apply(net, plan);
        ComputationGraph reference = zeroRemoved(net, graph, channels);
        for (String name : removed) {
            List<String> branch = graph.residualBlock(name).branch();
            Layer bn = reference.getLayer(branch.get(branch.size() - 1));
            assertTrue(bn.conf().getLayer() instanceof BatchNormalization, name + " ends in " + bn);
            bn.setParam("gamma", bn.getParam("gamma").mul(0));
            bn.setParam("beta", bn.getParam("beta").mul(0));
            branch.forEach(v -> assertFalse(pruned.getConfiguration().getVertices().containsKey(v), v + " removed"));
        }
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28).subi(0.5).muli(2);
        assertTrue(maxDiff(pruned.outputSingle(false, x), reference.outputSingle(false, x)) < 1e-5,
                family + ": outputs differ");
        assertKeptChannelsMatch(graph, plan, pruned.feedForward(x, false), reference.feedForward(x, false), family);
        String gone = graph.residualBlock(removed.get(0)).branch().get(0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> plan.keptChannels(graph, gone))
                .getMessage().contains("'" + gone + "' is in a removed residual block"));
        assertEquals(ModelCost.of(Pruner.prunedConfiguration(net, plan), SHAPE, 0).macs(),
                ModelCost.of(pruned, SHAPE).macs(), family + ": the estimate is the built network's cost");
        ComputationGraph reloaded = ModelFiles.fromBytes(ModelFiles.toBytes(pruned), "test");
        assertEquals(pruned.outputSingle(false, x), reloaded.outputSingle(false, x), family + ": saves and loads");
        PruningPlan read = PruningPlan.fromJson(plan.toJson(), "test");
        assertEquals(plan, read);
    }

    @Test
    void removingAResNetBlockSavesItsTwoConvolutions() {
        ComputationGraph net = TestNetworks.zoo("resnet20");
        long dense = ModelCost.of(net, SHAPE).macs();
        long without = ModelCost.of(Pruner.apply(net, new PruningPlan("none", List.of(),
                List.of("stage1.block2.add"))), SHAPE).macs();
        assertEquals(2L * 28 * 28 * 16 * 16 * 9, dense - without, "two 3x3 16 -> 16 convolutions at 28x28");

        IllegalArgumentException projected = assertThrows(IllegalArgumentException.class, () -> Pruner.apply(net,
                new PruningPlan("none", List.of(), List.of("stage2.block1.add"))));
        assertTrue(projected.getMessage().contains("'stage2.block1.add'"), projected.getMessage());
        assertEquals(List.of(), PruningPlan.fromJson("{\"criterion\": \"l1_norm\", \"groups\": []}", "old plan")
                .removedBlocks(), "plans written before blocks could be removed still read");
    }

    @Test
    void blocksAreRemovableOnlyWhenTheScopeSaysSo() {
        ComputationGraph net = TestNetworks.zoo("resnet20");
        ChannelGraph graph = ChannelGraph.of(net);
        Map<String, double[]> scores = Importance.score(net, graph, Criterion.L1_NORM, Importance.Combine.MEAN);
        Map<String, Double> removeAll = new HashMap<>();
        graph.residualBlocks().forEach(b -> removeAll.put(b.name(), 1.0));
        assertTrue(new PlanBuilder(graph, scores, PruningScope.ALL, "l1_norm").plan(removeAll).isEmpty());

        PruningScope stage1Kept = new PruningScope(List.of("*"), List.of("stage1.*"), 1, 1, true);
        PlanBuilder builder = new PlanBuilder(graph, scores, stage1Kept, "l1_norm");
        assertEquals(List.of("stage2.block2.add", "stage2.block3.add", "stage3.block2.add", "stage3.block3.add"),
                builder.removableBlocks().stream().map(ResidualBlock::name).toList());
        Map<String, Double> ratios = new HashMap<>(Map.of("stage2.block2.add", 1.0, "stage2.block2.conv1", 0.5,
                "stage2.block3.conv1", 0.5));
        PruningPlan plan = builder.plan(ratios);
        assertEquals(List.of("stage2.block2.add"), plan.removedBlocks());
        assertEquals(List.of("stage2.block3.conv1"), plan.groups().stream().map(PruningPlan.GroupPlan::group).toList(),
                "the removed block's inner group goes with it");
    }

    /**
     * At every vertex the pruned network has, its activation equals the reference's at the channels
     * {@link PruningPlan#keptChannels} names.
     */
    static void assertKeptChannelsMatch(ChannelGraph graph, PruningPlan plan, Map<String, INDArray> pruned,
                                        Map<String, INDArray> reference, String family) {
        int checked = 0;
        for (Map.Entry<String, INDArray> e : pruned.entrySet()) {
            if (e.getKey().equals("input")) {
                continue;
            }
            int[] kept = plan.keptChannels(graph, e.getKey());
            INDArray original = reference.get(e.getKey());
            assertEquals(e.getValue().size(1), kept.length, family + ": channels at " + e.getKey());
            INDArray sliced = original.rank() == 4
                    ? original.get(NDArrayIndex.all(), NDArrayIndex.indices(toLongs(kept)), NDArrayIndex.all(),
                    NDArrayIndex.all())
                    : original.get(NDArrayIndex.all(), NDArrayIndex.indices(toLongs(kept)));
            assertTrue(maxDiff(e.getValue(), sliced) < 1e-5, family + ": activation at " + e.getKey());
            checked++;
        }
        assertTrue(checked > 10, family + ": vertices checked");
    }

    static long[] toLongs(int[] values) {
        return Arrays.stream(values).asLongStream().toArray();
    }

    /** The channels of the last group before pooling that survive, as positions in the original features. */
    static long[] keptOfOutputGroup(ChannelGraph graph, PruningPlan plan, ComputationGraph net) {
        for (ChannelGroup g : graph.groups()) {
            if (g.members(Role.CONSUMER).stream().anyMatch(m -> m.vertex().equals("fc"))) {
                PruningPlan.GroupPlan gp = plan.group(g.name());
                int[] kept = gp == null ? java.util.stream.IntStream.range(0, g.size()).toArray() : gp.kept();
                return java.util.Arrays.stream(kept).asLongStream().toArray();
            }
        }
        throw new AssertionError("no group feeds fc");
    }

    @Test
    void residualAndDepthwiseChannelsFormOneGroup() {
        ChannelGraph resnet = ChannelGraph.of(TestNetworks.zoo("resnet20"));
        ChannelGroup stage2 = resnet.group("stage2.block1.shortcut");
        assertEquals(32, stage2.size());
        assertTrue(stage2.producers().containsAll(List.of("stage2.block1.conv2", "stage2.block1.shortcut",
                "stage2.block2.conv2", "stage2.block3.conv2")), stage2.producers().toString());
        assertEquals(12, resnet.groups().size(), "one group per width slot");

        ChannelGroup stem = ChannelGraph.of(TestNetworks.zoo("mobilenetv1")).group("stem");
        assertTrue(stem.members(Role.CHANNELWISE).stream().anyMatch(m -> m.vertex().equals("block1.dw")));
        assertTrue(stem.members(Role.CONSUMER).stream().anyMatch(m -> m.vertex().equals("block1.pw")));

        ChannelGraph v2 = ChannelGraph.of(TestNetworks.zoo("mobilenetv2"));
        assertTrue(v2.group("stem").producers().contains("block1.project"), "block 1's shortcut joins the stem");
        assertEquals(12, v2.groups().size());
    }

    @Test
    void outputLayerIsNeverPruned() {
        ChannelGraph graph = ChannelGraph.of(TestNetworks.zoo("vgg"));
        assertTrue(graph.groups().stream().noneMatch(g -> g.producers().contains("fc")));
        ComputationGraph pruned = Pruner.apply(TestNetworks.zoo("vgg"), new PlanBuilder(graph,
                Importance.score(TestNetworks.zoo("vgg"), graph, Criterion.L1_NORM, Importance.Combine.MEAN), PruningScope.ALL, "l1_norm")
                .uniform(0.5));
        assertEquals(10, pruned.outputSingle(false, Nd4j.rand(DataType.FLOAT, 1, 1, 28, 28)).size(1));
    }

    /** conv -> BN -> flatten -> dense, and a concatenation feeding a convolution. */
    static ComputationGraph flattenAndConcat() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(6, 6, 2))
                .addLayer("a", new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(
                        org.deeplearning4j.nn.conf.ConvolutionMode.Same).activation(Activation.IDENTITY).build(), "in")
                .addLayer("a.bn", new BatchNormalization.Builder().build(), "a")
                .addLayer("b", new ConvolutionLayer.Builder(1, 1).nOut(6).activation(Activation.IDENTITY).build(), "in")
                .addLayer("b.bn", new BatchNormalization.Builder().build(), "b")
                .addVertex("cat", new MergeVertex(), "a.bn", "b.bn")
                .addLayer("c", new ConvolutionLayer.Builder(3, 3).nOut(5).activation(Activation.IDENTITY).build(), "cat")
                .addLayer("c.bn", new BatchNormalization.Builder().build(), "c")
                .addLayer("hidden", new DenseLayer.Builder().nOut(7).activation(Activation.RELU).build(), "c.bn")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "hidden")
                .setOutputs("out").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return TestNetworks.randomizeBatchNorm(net, 9);
    }

    @Test
    void concatenationOffsetsAndFlattenedDenseInputsAreSliced() {
        ComputationGraph net = flattenAndConcat();
        ChannelGraph graph = ChannelGraph.of(net);
        GroupMember catConsumerOfB = graph.group("b").members(Role.CONSUMER).get(0);
        assertEquals(4, catConsumerOfB.offset(), "b sits after a's 4 channels in the concatenation");
        GroupMember flat = graph.group("c").members(Role.CONSUMER).get(0);
        assertEquals(16, flat.spread(), "each of c's channels is a 4x4 map when flattened");

        PruningPlan plan = new PruningPlan("test", List.of(
                new PruningPlan.GroupPlan("a", 4, new int[] {1, 3}),
                new PruningPlan.GroupPlan("b", 6, new int[] {0, 2, 5}),
                new PruningPlan.GroupPlan("c", 5, new int[] {0, 4}),
                new PruningPlan.GroupPlan("hidden", 7, new int[] {1, 2, 3, 6})));
        ComputationGraph pruned = Pruner.apply(net, plan);
        INDArray x = Nd4j.rand(DataType.FLOAT, 3, 2, 6, 6);
        ComputationGraph reference = zeroRemoved(net, graph, plan);
        // "hidden" has no batch norm: zero its removed units' weights and biases instead
        INDArray w = reference.getLayer("hidden").getParam("W").dup();
        INDArray bias = reference.getLayer("hidden").getParam("b").dup();
        for (int u : new int[] {0, 4, 5}) {
            w.getColumn(u).assign(0);
            bias.putScalar(u, 0);
        }
        reference.getLayer("hidden").setParam("W", w);
        reference.getLayer("hidden").setParam("b", bias);
        assertTrue(maxDiff(pruned.outputSingle(false, x), reference.outputSingle(false, x)) < 1e-5);
        assertEquals(2L * 16, ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) pruned.getLayer("hidden").conf()
                .getLayer()).getNIn());
    }

    @Test
    void unknownVerticesAreNamedOrSkipped() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(6, 6, 1))
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).build(), "in")
                .addLayer("lrn", new LocalResponseNormalization.Builder().build(), "conv")
                .addLayer("conv2", new ConvolutionLayer.Builder(3, 3).nOut(4).build(), "lrn")
                .addLayer("out", new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX).build(), "conv2")
                .setOutputs("out").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        UnsupportedVertexException e = assertThrows(UnsupportedVertexException.class, () -> ChannelGraph.of(net));
        assertTrue(e.getMessage().contains("'lrn'") && e.getMessage().contains("LocalResponseNormalization"), e.getMessage());
        ChannelGraph skipped = ChannelGraph.of(net, ChannelGraph.Unsupported.SKIP);
        assertFalse(skipped.group("conv").prunable());
        assertTrue(skipped.group("conv").pinnedBy().contains("lrn"));
        assertTrue(skipped.group("conv2").prunable());
    }

    /** Two plans in turn (as iterative pruning makes them) replay as one plan on the original network. */
    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "mobilenetv2"})
    void planFollowedByAnotherComposesIntoOne(String family) {
        ComputationGraph net = TestNetworks.zoo(family);
        PruningPlan first = randomPlan(ChannelGraph.of(net), 1);
        ComputationGraph once = Pruner.apply(net, first);
        PruningPlan second = randomPlan(ChannelGraph.of(once), 2);
        ComputationGraph twice = Pruner.apply(once, second);

        PruningPlan composed = first.then(second);
        ComputationGraph direct = Pruner.apply(net, composed);
        assertEquals(twice.params(), direct.params(), "the same weights, sliced once instead of twice");
        assertEquals(ModelCost.of(twice, SHAPE).macs(), ModelCost.of(direct, SHAPE).macs());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> second.then(first));
        assertTrue(e.getMessage().contains("channels after the first plan"), e.getMessage());
    }

    @Test
    void planSurvivesJsonAndReplaysToTheSameNetwork() {
        ComputationGraph net = TestNetworks.zoo("resnet20");
        ChannelGraph graph = ChannelGraph.of(net);
        PruningPlan plan = new PlanBuilder(graph, Importance.score(net, graph, Criterion.GEOMETRY_MEDIAN,
                Importance.Combine.MEAN), PruningScope.ALL, "geometry_median").uniform(0.3);
        PruningPlan read = PruningPlan.fromJson(plan.toJson(), "test");
        assertEquals(plan, read);
        assertEquals(Pruner.apply(net, plan).params(), Pruner.apply(net, read).params());

        ComputationGraph vgg = TestNetworks.zoo("vgg");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Pruner.apply(vgg, plan));
        assertTrue(e.getMessage().contains("does not have"), e.getMessage());
    }

    @Test
    void scopeLimitsWhichGroupsAndHowFar() {
        ComputationGraph net = TestNetworks.zoo("vgg");
        ChannelGraph graph = ChannelGraph.of(net);
        PruningScope scope = new PruningScope(List.of("conv*"), List.of("conv1", "conv6"), 10, 8);
        PruningPlan plan = new PlanBuilder(graph, Importance.score(net, graph, Criterion.L1_NORM,
                Importance.Combine.MEAN), scope, "l1_norm").uniform(0.9);
        assertEquals(List.of("conv2", "conv3", "conv4", "conv5"), plan.groups().stream().map(PruningPlan.GroupPlan::group).toList());
        assertEquals(16, plan.group("conv2").kept().length, "32 * 0.1 = 3.2 -> at least 10 -> up to a multiple of 8");
        assertEquals(16, plan.group("conv5").kept().length, "128 * 0.1 = 12.8 -> nearest multiple of 8");
        assertEquals(64, scope.keptChannels(128, 0.5));
    }

    @Test
    void criteriaRankFiltersAsDefined() {
        double[][] filters = {{1, 1}, {-3, 0}, {0.5, 0.5}, {1, 0.9}};
        assertArrayEquals(new double[] {2, 3, 1, 1.9}, Importance.filterScores(filters, Criterion.L1_NORM), 1e-12);
        assertEquals(3, Importance.filterScores(filters, Criterion.L2_NORM)[1], 1e-12);
        double[] gm = Importance.filterScores(filters, Criterion.GEOMETRY_MEDIAN);
        // the outlier {-3, 0} is far from the rest; {1, 1} and {1, 0.9} sit near the median
        assertTrue(gm[1] > gm[0] && gm[1] > gm[3] && gm[1] > gm[2]);
    }
}
