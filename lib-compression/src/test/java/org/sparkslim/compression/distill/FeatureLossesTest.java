package org.sparkslim.compression.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.TestPlans;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.QuantizationConfig;
import org.sparkslim.compression.train.EpochCheckpoints;
import org.sparkslim.compression.train.InMemoryBatchSource;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.compression.train.TrainingTest;

class FeatureLossesTest {
    static final InputType INPUT = InputType.convolutional(12, 12, 1);
    static final String HINTED = "conv4.bn";

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
        PruningPlan plan = TestPlans.everyOtherChannel(graph);
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

        FeatureLosses hints = new FeatureLosses(new TeacherLogits(teacher),
                List.of(new FeatureLoss.L2(HINTED, HINTED, kept, 2.0)), false);
        try (FeatureLosses.Attached attached = hints.attachTo(hinted, INPUT)) {
            ComputationGraph net = attached.network();
            assertEquals(List.of("fc", FeatureLosses.lossOutput(0)), net.getConfiguration().getNetworkOutputs());
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
        List<FeatureLoss> layers = List.of(new FeatureLoss.L2("conv2.relu", "conv2.relu", 1.0),
                new FeatureLoss.L2("conv4.bn", "conv4.bn", 1.0), new FeatureLoss.L2("gap", "gap", 1.0));
        FeatureLosses hints = new FeatureLosses(logits, layers, true);
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

    /** Squared distance per element between two arrays of one shape. */
    static double meanSquare(INDArray a, INDArray b) {
        double d = a.sub(b).norm2Number().doubleValue();
        return d * d / a.length();
    }

    @Test
    void fspAndL2LossesTrainAStudentOfAnotherWidthThroughAdapters() throws Exception {
        LabeledImages images = TrainingTest.bars(512, 1);
        BatchAssembler assembler = new BatchAssembler(TrainingTest.SHAPE, 4, new Normalization(0.15, 0.3));
        TrainingRecipe recipe = new TrainingRecipe(3, 32, 0.05, 0.9, 5e-4, Augmentation.NONE, 11);
        ComputationGraph teacher = SoftLabelDistillationTest.smallVgg(4, 21);
        ModelFamily vgg = ModelZoo.family("vgg");
        Trainer trainer = new Trainer(recipe, 4);
        // half the teacher's width: every loss needs an adapter
        ComputationGraph student = trainer.prepare(vgg.build(vgg.spec(vgg.baseWidths().scaled(0.125), TrainingTest.SHAPE,
                4, 23)), images.size());
        INDArray initial = student.params().dup();
        FeatureLosses losses = new FeatureLosses(new TeacherLogits(teacher), List.of(
                new FeatureLoss.Fsp("conv3.bn", "conv4.bn", "conv3.bn", "conv4.bn", 3.0),
                new FeatureLoss.L2("gap", "gap", 0.5)), false);
        DataSet batch = new InMemoryBatchSource(images, assembler, 64, Augmentation.NONE, false, 1).epoch(0).next();
        MultiDataSet targets = losses.targets(batch);
        assertArrayEquals(new long[] {64, 16 * 16}, targets.getLabels(1).shape(), "the teacher's 16 x 16 FSP matrices");
        assertArrayEquals(new long[] {64, 32}, targets.getLabels(2).shape(), "the teacher's 32 pooled features");
        double fspBefore;
        try (FeatureLosses.Attached attached = losses.attachTo(student, INPUT)) {
            ComputationGraph net = attached.network();
            assertEquals(List.of("fc", FeatureLosses.lossOutput(0), FeatureLosses.lossOutput(1)),
                    net.getConfiguration().getNetworkOutputs());
            assertTrue(net.getConfiguration().getVertices().keySet().containsAll(List.of("distill0/adapter-from",
                    "distill0/adapter-to", "distill0/fsp", "distill1/adapter")), "an adapter wherever widths differ");
            // the score is the classifier's plus each loss's weight times its mean squared error
            INDArray[] outputs = net.output(false, batch.getFeatures());
            fspBefore = meanSquare(outputs[1], targets.getLabels(1));
            double adapterPenalty = 0;
            for (String adapter : List.of("distill0/adapter-from", "distill0/adapter-to", "distill1/adapter")) {
                double norm = net.getLayer(adapter).getParam("W").norm2Number().doubleValue();
                adapterPenalty += 0.5 * recipe.weightDecay() * norm * norm;
            }
            double expected = student.score(batch, false) + 3.0 * fspBefore + 0.5 * meanSquare(outputs[2],
                    targets.getLabels(2)) + adapterPenalty;
            assertEquals(expected, net.score(targets, false), 1e-4 * expected);

            trainer.fit(net, new InMemoryBatchSource(images, assembler, recipe.batchSize(), recipe.augmentation(), true,
                    recipe.seed()), losses::targets, null, EpochCheckpoints.NONE);
            double fspAfter = meanSquare(net.output(false, batch.getFeatures())[1], targets.getLabels(1));
            assertTrue(fspAfter < fspBefore / 3, "FSP distance before " + fspBefore + ", after " + fspAfter);
        }
        assertEquals(List.of("fc"), student.getConfiguration().getNetworkOutputs(), "the student is a plain classifier");
        assertTrue(student.getConfiguration().getVertices().keySet().stream().noneMatch(v -> v.startsWith("distill")),
                "no adapter is left in the student");
        assertTrue(!student.params().equals(initial), "the student's own weights were trained");
        ComputationGraph reloaded = ModelFiles.fromBytes(ModelFiles.toBytes(student), "distilled student");
        assertEquals(student.outputSingle(false, batch.getFeatures()), reloaded.outputSingle(false, batch.getFeatures()));
    }

    @Test
    void aFakeQuantizedStudentKeepsTheRangesItLearnedThroughTheLosses() throws Exception {
        LabeledImages images = TrainingTest.bars(256, 1);
        BatchAssembler assembler = new BatchAssembler(TrainingTest.SHAPE, 4, new Normalization(0.15, 0.3));
        TrainingRecipe recipe = new TrainingRecipe(1, 32, 0.01, 0.9, 5e-4, Augmentation.NONE, 11);
        Trainer trainer = new Trainer(recipe, 4);
        ComputationGraph student = trainer.prepare(FakeQuantization.insert(SoftLabelDistillationTest.smallVgg(4, 22),
                QuantizationConfig.DEFAULT), images.size());
        assertTrue(FakeQuantization.quantizers(student).values().stream().allMatch(q -> q.range() == 0),
                "no range learned yet");
        FeatureLosses losses = new FeatureLosses(new TeacherLogits(SoftLabelDistillationTest.smallVgg(4, 21)),
                List.of(new FeatureLoss.L2("gap", "gap", 1.0)), false);
        Map<String, Double> learned = new TreeMap<>();
        try (FeatureLosses.Attached attached = losses.attachTo(student, INPUT)) {
            trainer.fit(attached.network(), new InMemoryBatchSource(images, assembler, recipe.batchSize(),
                    recipe.augmentation(), true, recipe.seed()), losses::targets, null, EpochCheckpoints.NONE);
            FakeQuantization.quantizers(attached.network()).forEach((name, q) -> learned.put(name, q.range()));
        }
        Map<String, Double> kept = new TreeMap<>();
        FakeQuantization.quantizers(student).forEach((name, q) -> kept.put(name, q.range()));
        assertTrue(learned.values().stream().allMatch(r -> r > 0), "ranges learned while training: " + learned);
        assertEquals(learned, kept, "the student keeps what its quantizers learned");
    }

    @Test
    void badLossesAreNamed() {
        ComputationGraph teacher = SoftLabelDistillationTest.smallVgg(4, 21);
        ComputationGraph student = SoftLabelDistillationTest.smallVgg(4, 22);
        TeacherLogits logits = new TeacherLogits(teacher);
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> new FeatureLosses(logits,
                List.of(new FeatureLoss.L2("conv1.bn", "conv9.bn", 1.0)), false));
        assertTrue(unknown.getMessage().contains("'conv9.bn' is not a vertex of the teacher"), unknown.getMessage());
        IllegalArgumentException unknownStudent = assertThrows(IllegalArgumentException.class, () -> new FeatureLosses(
                logits, List.of(new FeatureLoss.L2("conv9.bn", "conv1.bn", 1.0)), false).attachTo(student, INPUT));
        assertTrue(unknownStudent.getMessage().contains("'conv9.bn' is not a vertex of the student"),
                unknownStudent.getMessage());

        ComputationGraph pruned = Pruner.apply(student, TestPlans.everyOtherChannel(ChannelGraph.of(student)));
        int[] some = {0, 1, 2, 3};
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class, () -> new FeatureLosses(logits,
                List.of(new FeatureLoss.L2(HINTED, HINTED, some, 1.0)), false).attachTo(pruned, INPUT));
        assertTrue(width.getMessage().contains("'" + HINTED + "' has 8 channels in the student, and 4 of the teacher's"),
                width.getMessage());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> new FeatureLosses(logits,
                List.of(new FeatureLoss.L2("conv1.bn", HINTED, 1.0)), false).attachTo(student, INPUT));
        assertTrue(size.getMessage().contains("the student's 'conv1.bn' is 8x12x12 and the teacher's '" + HINTED
                + "' 16x6x6"), size.getMessage());
        IllegalArgumentException pair = assertThrows(IllegalArgumentException.class, () -> new FeatureLosses(logits,
                List.of(new FeatureLoss.Fsp("conv1.bn", HINTED, "conv1.bn", "conv2.bn", 1.0)), false)
                .attachTo(student, INPUT));
        assertTrue(pair.getMessage().contains("the student's 'conv1.bn' is 12x12 and '" + HINTED + "' 6x6"),
                pair.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FeatureLoss.L2(HINTED, HINTED, 0));
        assertThrows(IllegalArgumentException.class, () -> new FeatureLoss.Fsp("a", "a", "b", "c", 1));
    }

    @Test
    void storedTargetsSplitIntoWhatTheTeacherWouldHaveGiven() {
        LabeledImages images = TrainingTest.bars(64, 1);
        BatchAssembler assembler = new BatchAssembler(TrainingTest.SHAPE, 4, new Normalization(0.15, 0.3));
        FeatureLosses losses = new FeatureLosses(new TeacherLogits(SoftLabelDistillationTest.smallVgg(4, 21)), List.of(
                new FeatureLoss.Fsp("conv3.bn", "conv4.bn", "conv3.bn", "conv4.bn", 1.0),
                new FeatureLoss.L2("gap", "gap", 1.0)), true);
        DataSet batch = new InMemoryBatchSource(images, assembler, 16, Augmentation.NONE, false, 1).epoch(0).next();
        MultiDataSet online = losses.targets(batch);
        // offline the batch's labels hold one-hot label and logits, then each loss's target, side by side
        DataSet stored = new DataSet(batch.getFeatures(), Nd4j.hstack(online.getLabels()));
        MultiDataSet offline = FeatureLosses.storedTargets(stored, 4, new long[] {16 * 16, 32});
        assertEquals(3, offline.getLabels().length);
        for (int i = 0; i < 3; i++) {
            assertEquals(online.getLabels(i), offline.getLabels(i), "labels " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> FeatureLosses.storedTargets(stored, 4, new long[] {16 * 16}),
                "a target left over is an error, not a silent cut");
        // the targets a loss names for storage are the ones it is trained against
        Map<String, INDArray> activations = new TeacherLogits(SoftLabelDistillationTest.smallVgg(4, 21))
                .tapping(List.of("conv3.bn", "conv4.bn", "gap")).activations(batch.getFeatures());
        assertEquals(online.getLabels(1), losses.losses().get(0).teacherTarget().of(activations));
        assertEquals(online.getLabels(2), losses.losses().get(1).teacherTarget().of(activations));
    }
}
