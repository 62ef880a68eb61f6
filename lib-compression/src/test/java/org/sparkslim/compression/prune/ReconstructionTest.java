package org.sparkslim.compression.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.model.WidthVector;
import org.sparkslim.compression.train.BatchSource;
import org.sparkslim.compression.train.TestBatches;

class ReconstructionTest {
    /** Batches of random 28 x 28 images (labels unused by the refit). */
    static BatchSource images(int batches, int batchSize, long seed) {
        return images(batches, batchSize, seed, 1, 28);
    }

    static BatchSource images(int batches, int batchSize, long seed, int channels, int size) {
        List<DataSet> data = new ArrayList<>();
        Nd4j.getRandom().setSeed(seed);
        for (int i = 0; i < batches; i++) {
            data.add(new DataSet(Nd4j.randn(batchSize, channels, size, size), Nd4j.zeros(batchSize, 10)));
        }
        return TestBatches.of(data);
    }

    static INDArray activation(ComputationGraph net, String vertex, INDArray x) {
        return net.feedForward(new INDArray[] {x}, false, false).get(vertex).dup();
    }

    static double relativeDistance(INDArray a, INDArray b) {
        return a.sub(b).norm2Number().doubleValue() / b.norm2Number().doubleValue();
    }

    /** Plan keeping every channel of the group but {@code dropped}. */
    static PruningPlan.GroupPlan allBut(ChannelGraph graph, String group, int dropped) {
        int size = graph.group(group).size();
        return new PruningPlan.GroupPlan(group, size, IntStream.range(0, size).filter(c -> c != dropped).toArray());
    }

    /** Copies channel {@code from}'s slice of a parameter into channel {@code to} along {@code dim}. */
    static void copyChannel(Layer layer, String key, int dim, int from, int to) {
        INDArray p = layer.getParam(key).dup();
        INDArray view = p.rank() == 1 ? p.reshape(1, -1) : p;
        view.slice(to, dim).assign(view.slice(from, dim).dup());
        layer.setParam(key, view.reshape(p.shape()));
    }

    /**
     * Makes channel {@code to} of a group a copy of channel {@code from} wherever the group's channels
     * are made or carried (filters, batch norms, depthwise kernels), so removing it loses nothing that
     * the layers reading it cannot recover exactly.
     */
    static void duplicateChannel(ComputationGraph net, ChannelGroup group, int from, int to) {
        for (GroupMember m : group.members()) {
            Layer layer = net.getLayer(m.vertex());
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            if (m.role() == Role.PRODUCER) {
                copyChannel(layer, "W", 0, from, to);
            } else if (m.role() == Role.CHANNELWISE) {
                for (String key : layer.paramTable().keySet()) {
                    boolean kernel = conf instanceof org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D
                            && key.equals("W");
                    copyChannel(layer, key, kernel ? 2 : 1, from, to);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "vgg", "mobilenetv1", "mobilenetv2"})
    void everyLayerReadingARemovedDuplicateIsRefittedExactly(String family) {
        ComputationGraph net = TestNetworks.zoo(family);
        ChannelGraph graph = ChannelGraph.of(net);
        ChannelGroup group = graph.prunableGroups().get(0);
        duplicateChannel(net, group, 3, 5);
        PruningPlan plan = new PruningPlan("test", List.of(allBut(graph, group.name(), 5)));
        INDArray x = images(1, 8, 3).epoch(0).next().getFeatures();

        ComputationGraph sliced = Pruner.apply(net, plan);
        ComputationGraph refitted = Pruner.apply(net, plan);
        Reconstruction.Result result = Reconstruction.refit(net, refitted, plan, graph, images(2, 32, 4), 1);

        assertEquals(group.members(Role.CONSUMER).stream().map(GroupMember::vertex).sorted().toList(),
                result.fits().stream().map(Reconstruction.LayerFit::layer).sorted().toList());
        for (Reconstruction.LayerFit fit : result.fits()) {
            assertTrue(fit.errorBefore() > 1e-3 && fit.errorAfter() < 1e-5, family + ": " + fit);
        }
        double slicedOff = furthestActivation(sliced, net, group, x);
        double refittedOff = furthestActivation(refitted, net, group, x);
        assertTrue(slicedOff > 1e-3 && refittedOff < 1e-4, family + ": activations off by " + slicedOff + " -> "
                + refittedOff);
    }

    /**
     * The largest relative distance between a pruned network's activations and the original's, over
     * the vertices outside the pruned group (same width in both) and other than the refitted layers
     * themselves (whose constant term moved into the batch norm after them).
     */
    static double furthestActivation(ComputationGraph pruned, ComputationGraph original, ChannelGroup group,
                                     INDArray x) {
        Map<String, INDArray> p = pruned.feedForward(new INDArray[] {x}, false, false);
        Map<String, INDArray> o = original.feedForward(new INDArray[] {x}, false, false);
        List<String> refitted = group.members(Role.CONSUMER).stream().map(GroupMember::vertex).toList();
        double furthest = 0;
        for (Map.Entry<String, INDArray> e : o.entrySet()) {
            INDArray mine = p.get(e.getKey());
            if (mine != null && !refitted.contains(e.getKey()) && java.util.Arrays.equals(mine.shape(), e.getValue().shape())
                    && e.getValue().norm2Number().doubleValue() > 0) {
                furthest = Math.max(furthest, relativeDistance(mine, e.getValue()));
            }
        }
        return furthest;
    }

    /** Every group of every zoo model pruned at once: each reader of removed channels is refitted, none worse. */
    @ParameterizedTest
    @ValueSource(strings = {"resnet20", "vgg", "mobilenetv1", "mobilenetv2"})
    void everyReaderOfARandomPlanIsRefitted(String family) {
        ComputationGraph net = TestNetworks.zoo(family);
        ChannelGraph graph = ChannelGraph.of(net);
        PruningPlan plan = PrunerTest.randomPlan(graph, 11);
        ComputationGraph refitted = Pruner.apply(net, plan);
        Reconstruction.Result result = Reconstruction.refit(net, refitted, plan, graph, images(2, 32, 12), 1);

        java.util.Set<String> readers = new java.util.TreeSet<>();
        plan.groups().forEach(g -> graph.group(g.group()).members(Role.CONSUMER).forEach(m -> readers.add(m.vertex())));
        java.util.Set<String> handled = new java.util.TreeSet<>(result.skipped().keySet());
        result.fits().forEach(f -> handled.add(f.layer()));
        assertEquals(readers, handled);
        result.skipped().values().forEach(why -> assertTrue(why.contains("use more images"), family + ": " + why));
        result.fits().forEach(f -> assertTrue(f.errorAfter() <= f.errorBefore(), family + ": " + f));
    }

    /** Through a concatenation into an unpadded convolution, and through flattening into a dense layer. */
    @Test
    void concatenatedAndFlattenedInputsAreRefittedExactly() {
        ComputationGraph net = PrunerTest.flattenAndConcat();
        ChannelGraph graph = ChannelGraph.of(net);
        duplicateChannel(net, graph.group("b"), 0, 2);
        duplicateChannel(net, graph.group("c"), 1, 3);
        PruningPlan plan = new PruningPlan("test", List.of(allBut(graph, "b", 2), allBut(graph, "c", 3)));
        ComputationGraph sliced = Pruner.apply(net, plan);
        ComputationGraph refitted = Pruner.apply(net, plan);
        Reconstruction.Result result = Reconstruction.refit(net, refitted, plan, graph, images(3, 100, 9, 2, 6), 1);

        assertEquals(List.of("c", "hidden"), result.fits().stream().map(Reconstruction.LayerFit::layer).toList());
        result.fits().forEach(fit -> assertTrue(fit.errorBefore() > 1e-3 && fit.errorAfter() < 1e-5, fit.toString()));
        INDArray x = images(1, 16, 10, 2, 6).epoch(0).next().getFeatures();
        INDArray expected = net.outputSingle(x);
        assertTrue(relativeDistance(sliced.outputSingle(x), expected) > 1e-3);
        assertTrue(relativeDistance(refitted.outputSingle(x), expected) < 1e-4,
                "off by " + relativeDistance(refitted.outputSingle(x), expected));
    }

    @Test
    void aRemovedDuplicateChannelIsFoldedIntoTheLayersThatReadIt() {
        ModelFamily family = ModelZoo.family("mobilenetv1");
        Map<String, Integer> widths = new LinkedHashMap<>();
        family.baseWidths().asMap().keySet().forEach(slot -> widths.put(slot, 24));
        // narrow enough for a few hundred images to fit the classifier too
        ComputationGraph net = TestNetworks.randomizeBatchNorm(
                family.build(family.spec(WidthVector.of(widths), TestNetworks.FASHION, 10, 5)), 5);
        // channel 5 of block2.pw and block5.pw duplicates channel 3 all the way to the next layer's input
        for (String block : List.of("block2", "block5")) {
            copyChannel(net.getLayer(block + ".pw"), "W", 0, 3, 5);
            for (String key : net.getLayer(block + ".pw.bn").paramTable().keySet()) {
                copyChannel(net.getLayer(block + ".pw.bn"), key, 1, 3, 5);
            }
        }
        copyChannel(net.getLayer("block3.dw"), "W", 2, 3, 5);
        for (String key : net.getLayer("block3.dw.bn").paramTable().keySet()) {
            copyChannel(net.getLayer("block3.dw.bn"), key, 1, 3, 5);
        }
        ChannelGraph graph = ChannelGraph.of(net);
        PruningPlan plan = new PruningPlan("test", List.of(allBut(graph, "block2.pw", 5), allBut(graph, "block5.pw", 5)));
        INDArray x = images(1, 8, 3).epoch(0).next().getFeatures();
        INDArray expected = net.outputSingle(x);

        ComputationGraph sliced = Pruner.apply(net, plan);
        ComputationGraph refitted = Pruner.apply(net, plan);
        Reconstruction.Result result = Reconstruction.refit(net, refitted, plan, graph, images(3, 64, 4), 1);

        assertEquals(List.of("block3.pw", "fc"), result.fits().stream().map(Reconstruction.LayerFit::layer).toList());
        assertEquals(Map.of(), result.skipped());
        for (Reconstruction.LayerFit fit : result.fits()) {
            assertTrue(fit.errorBefore() > 1e-3, fit.toString());
            assertTrue(fit.errorAfter() < 1e-5, fit.toString());
        }
        double slicedOff = relativeDistance(sliced.outputSingle(x), expected);
        double refittedOff = relativeDistance(refitted.outputSingle(x), expected);
        assertTrue(slicedOff > 1e-3 && refittedOff < slicedOff / 100, "output off by " + slicedOff + " -> " + refittedOff);
    }

    @Test
    void refittingBringsAPrunedLayerCloserToTheOriginalOnOtherImages() {
        ComputationGraph net = TestNetworks.zoo("mobilenetv1");
        ChannelGraph graph = ChannelGraph.of(net);
        PruningPlan plan = new PlanBuilder(graph, Importance.score(net, graph, Criterion.L1_NORM,
                Importance.Combine.SUM), PruningScope.ALL, "l1_norm").plan(Map.of("block3.pw", 0.5));
        ComputationGraph sliced = Pruner.apply(net, plan);
        ComputationGraph refitted = Pruner.apply(net, plan);
        Reconstruction.Result result = Reconstruction.refit(net, refitted, plan, graph, images(2, 32, 5), 1);

        assertEquals(1, result.fits().size());
        Reconstruction.LayerFit fit = result.fits().get(0);
        assertEquals("block4.pw", fit.layer());
        assertEquals(64L * 7 * 7, fit.samples());
        assertTrue(fit.errorAfter() < fit.errorBefore(), fit.toString());
        INDArray heldOut = images(1, 16, 6).epoch(0).next().getFeatures();
        // compared after the batch norm, which holds the fit's constant term
        INDArray expected = activation(net, "block4.pw.relu", heldOut);
        double before = relativeDistance(activation(sliced, "block4.pw.relu", heldOut), expected);
        double after = relativeDistance(activation(refitted, "block4.pw.relu", heldOut), expected);
        assertTrue(after < 0.8 * before, "held-out error " + before + " -> " + after + ", " + fit);
    }

    @Test
    void layersWithTooFewSamplesKeepTheirSlicedWeights() {
        ComputationGraph net = TestNetworks.zoo("vgg");
        ChannelGraph graph = ChannelGraph.of(net);
        PruningPlan plan = PrunerTest.randomPlan(graph, 7);
        ComputationGraph sliced = Pruner.apply(net, plan);
        ComputationGraph refitted = Pruner.apply(net, plan);
        // 4 images give 256 pixel samples, fewer than 4 per weight of any 3x3 convolution here
        Reconstruction.Result result = Reconstruction.refit(net, refitted, plan, graph, images(1, 4, 8), 1);

        assertEquals(List.of(), result.fits());
        assertEquals(List.of("conv2", "conv3", "conv4", "conv5", "conv6", "fc"), List.copyOf(result.skipped().keySet()));
        result.skipped().values().forEach(why -> assertTrue(why.contains("use more images"), why));
        assertEquals(sliced.params(), refitted.params());
    }

    /**
     * Nearly collinear inputs and noisy outputs with few samples: the least-squares weights fit the
     * noise. The ridge chosen on held-out samples must give a fit that does better on a third set,
     * with smaller weights; on an exact relation it must stay the smallest candidate.
     */
    @Test
    void theRidgeChosenOnHeldOutSamplesGeneralizesBetter() {
        Nd4j.getRandom().setSeed(3);
        INDArray mixing = Nd4j.rand(DataType.DOUBLE, 8, 40);
        INDArray weights = Nd4j.randn(DataType.DOUBLE, 40, 3);
        BiFunction<Integer, Double, Reconstruction.NormalEquations> sample = (n, noise) -> {
            INDArray x = Nd4j.randn(DataType.DOUBLE, n, 8).mmul(mixing)
                    .addi(Nd4j.randn(DataType.DOUBLE, n, 40).muli(0.05));
            INDArray y = x.mmul(weights).addi(Nd4j.randn(DataType.DOUBLE, n, 3).muli(noise));
            Reconstruction.NormalEquations eq = new Reconstruction.NormalEquations(40, 3);
            eq.add(x, y);
            return eq;
        };
        Reconstruction.NormalEquations fitting = sample.apply(120, 2.0);
        Reconstruction.NormalEquations heldOut = sample.apply(60, 2.0);
        Reconstruction.NormalEquations fresh = sample.apply(2000, 2.0);

        double ridge = Reconstruction.chooseRidge(fitting, heldOut, true);
        assertTrue(ridge > Reconstruction.RIDGES[0], "chose " + ridge);
        INDArray[] chosen = fitting.solve(true, ridge);
        INDArray[] smallest = fitting.solve(true, Reconstruction.RIDGES[0]);
        assertTrue(fresh.relativeError(chosen[0], chosen[1]) < fresh.relativeError(smallest[0], smallest[1]),
                fresh.relativeError(chosen[0], chosen[1]) + " vs " + fresh.relativeError(smallest[0], smallest[1]));
        assertTrue(chosen[0].norm2Number().doubleValue() < smallest[0].norm2Number().doubleValue());

        assertEquals(Reconstruction.RIDGES[0],
                Reconstruction.chooseRidge(sample.apply(120, 0.0), sample.apply(60, 0.0), true));
    }
}
