package org.sparkslim.compression.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.ChannelGroup;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.train.EpochCheckpoints;
import org.sparkslim.compression.train.InMemoryBatchSource;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.compression.train.TrainingTest;

class FeatureHintsTest {
    static final InputType INPUT = InputType.convolutional(12, 12, 1);
    static final String HINTED = "conv4.bn";

    /** Every other channel of every prunable group. */
    static PruningPlan everyOtherChannel(ChannelGraph graph) {
        List<PruningPlan.GroupPlan> groups = new ArrayList<>();
        for (ChannelGroup g : graph.prunableGroups()) {
            int[] even = IntStream.range(0, g.size()).filter(i -> i % 2 == 0).toArray();
            groups.add(new PruningPlan.GroupPlan(g.name(), g.size(), even));
        }
        return new PruningPlan("test", groups);
    }

    /**
     * A batch norm's output at inference, computed from its input and statistics: the one DL4J hands back
     * after a pass has been rectified in place by the activation layer that reads it.
     */
    static INDArray activation(ComputationGraph net, String bn, INDArray x) {
        INDArray in = net.feedForward(x, false).get(net.getConfiguration().getVertexInputs().get(bn).get(0));
        Layer layer = net.getLayer(bn);
        INDArray std = Transforms.exp(layer.getParam("log10stdev").mul(Math.log(10)), false);
        INDArray out = in.dup();
        Broadcast.sub(out, layer.getParam("mean").reshape(-1), out, 1);
        Broadcast.div(out, std.reshape(-1), out, 1);
        Broadcast.mul(out, layer.getParam("gamma").reshape(-1), out, 1);
        return Broadcast.add(out, layer.getParam("beta").reshape(-1), out, 1);
    }

    /** Root mean squared difference between the student's hinted activation and the teacher's kept channels. */
    static double featureDistance(ComputationGraph student, ComputationGraph teacher, int[] kept, INDArray x) {
        INDArray s = activation(student, HINTED, x);
        INDArray t = activation(teacher, HINTED, x).get(NDArrayIndex.all(),
                NDArrayIndex.indices(Arrays.stream(kept).asLongStream().toArray()), NDArrayIndex.all(),
                NDArrayIndex.all());
        return s.sub(t).norm2Number().doubleValue() / Math.sqrt(s.length());
    }

    @Test
    void hintsPullAPrunedStudentsFeaturesToTheTeachersKeptChannels() throws Exception {
        LabeledImages images = TrainingTest.bars(512, 1);
        BatchAssembler assembler = new BatchAssembler(TrainingTest.SHAPE, 4, new Normalization(0.15, 0.3));
        TrainingRecipe recipe = new TrainingRecipe(3, 32, 0.05, 0.9, 5e-4, Augmentation.NONE, 11);
        ComputationGraph teacher = SoftLabelDistillationTest.smallVgg(4, 21);
        ChannelGraph graph = ChannelGraph.of(teacher);
        PruningPlan plan = everyOtherChannel(graph);
        int[] kept = plan.keptChannels(graph, HINTED);
        INDArray probe = InMemoryBatchSource.forEvaluation(TrainingTest.bars(128, 2), assembler, 128).epoch(0).next()
                .getFeatures();

        Trainer trainer = new Trainer(recipe, 4);
        // a student of the pruned architecture with other weights: only the hints can make its features the teacher's
        ComputationGraph plain = trainer.prepare(Pruner.apply(SoftLabelDistillationTest.smallVgg(4, 22), plan),
                images.size());
        ComputationGraph hinted = plain.clone();
        double before = featureDistance(hinted, teacher, kept, probe);
        trainer.fit(plain, new InMemoryBatchSource(images, assembler, recipe.batchSize(), recipe.augmentation(), true,
                recipe.seed()), null, EpochCheckpoints.NONE);

        FeatureHints hints = new FeatureHints(new TeacherLogits(teacher), Map.of(HINTED, kept), 2.0, false);
        try (FeatureHints.Attached attached = hints.attachTo(hinted, INPUT)) {
            ComputationGraph net = attached.network();
            assertEquals(List.of("fc", HINTED + FeatureHints.SUFFIX), net.getConfiguration().getNetworkOutputs());
            DataSet batch = new InMemoryBatchSource(images, assembler, 32, Augmentation.NONE, false, 1).epoch(0).next();
            MultiDataSet targets = hints.targets(batch);
            assertEquals(batch.getLabels(), targets.getLabels(0), "labels alone without soft labels");
            assertArrayEquals(new long[] {32, kept.length * 6 * 6}, targets.getLabels(1).shape(),
                    "the teacher's kept channels at 6 x 6, flattened");
            // the score is the classifier's plus the weight times the mean squared feature difference
            INDArray studentFeatures = activation(net, HINTED, batch.getFeatures());
            double mse = studentFeatures.reshape('c', 32, -1).sub(targets.getLabels(1)).norm2Number().doubleValue();
            mse = mse * mse / studentFeatures.length();
            double classifier = hinted.score(batch, false);
            assertEquals(classifier + 2.0 * mse, net.score(targets, false), 1e-4 * (classifier + 2.0 * mse));

            trainer.fit(net, new InMemoryBatchSource(images, assembler, recipe.batchSize(), recipe.augmentation(), true,
                    recipe.seed()), hints::targets, null, EpochCheckpoints.NONE);
        }
        double withHints = featureDistance(hinted, teacher, kept, probe);
        double without = featureDistance(plain, teacher, kept, probe);
        assertTrue(withHints < before / 2 && withHints < without / 2,
                "feature distance: before " + before + ", trained with hints " + withHints + ", without " + without);
        assertEquals(List.of("fc"), hinted.getConfiguration().getNetworkOutputs(), "the student is a plain classifier");
        ComputationGraph reloaded = ModelFiles.fromBytes(ModelFiles.toBytes(hinted), "hinted student");
        assertTrue(reloaded.outputSingle(false, probe).equalsWithEps(hinted.outputSingle(false, probe), 1e-6));
    }

    @Test
    void softLabelsAndHintsComeFromOneTeacherPass() {
        ComputationGraph teacher = SoftLabelDistillationTest.smallVgg(4, 21);
        TeacherLogits logits = new TeacherLogits(teacher);
        Map<String, int[]> layers = new LinkedHashMap<>();
        layers.put("conv2.relu", null);
        layers.put("conv4.bn", null);
        layers.put("gap", null);
        FeatureHints hints = new FeatureHints(logits, layers, 1.0, true);
        BatchAssembler assembler = new BatchAssembler(TrainingTest.SHAPE, 4, new Normalization(0.15, 0.3));
        DataSet batch = InMemoryBatchSource.forEvaluation(TrainingTest.bars(16, 3), assembler, 16).epoch(0).next();
        MultiDataSet targets = hints.targets(batch);
        assertEquals(SoftLabelLoss.labelsWithLogits(batch.getLabels(), logits.of(batch.getFeatures())),
                targets.getLabels(0));
        Map<String, INDArray> activations = teacher.feedForward(batch.getFeatures(), false);
        assertEquals(activations.get("conv2.relu").reshape('c', 16, -1), targets.getLabels(1));
        INDArray normalized = activation(teacher, "conv4.bn", batch.getFeatures());
        assertTrue(normalized.minNumber().doubleValue() < 0);
        assertEquals(normalized.reshape('c', 16, -1), targets.getLabels(2),
                "a batch norm's output as it is, not rectified by the activation layer reading it");
        assertEquals(activations.get("gap"), targets.getLabels(3), "a dense activation as it is");
    }

    @Test
    void badHintsAreNamed() {
        ComputationGraph teacher = SoftLabelDistillationTest.smallVgg(4, 21);
        ComputationGraph student = SoftLabelDistillationTest.smallVgg(4, 22);
        TeacherLogits logits = new TeacherLogits(teacher);
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> new FeatureHints(logits, Map.of("conv9.bn", new int[0]), 1.0, false).attachTo(student, INPUT));
        assertTrue(unknown.getMessage().contains("'conv9.bn' is not a vertex of the teacher"), unknown.getMessage());
        ComputationGraph pruned = Pruner.apply(student, everyOtherChannel(ChannelGraph.of(student)));
        Map<String, int[]> unmapped = new LinkedHashMap<>();
        unmapped.put(HINTED, null);
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> new FeatureHints(logits, unmapped, 1.0, false).attachTo(pruned, INPUT));
        assertTrue(width.getMessage().contains("'" + HINTED + "' has 8 channels in the student and 16 in the teacher"),
                width.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FeatureHints(logits, unmapped, 0, false));
    }
}
