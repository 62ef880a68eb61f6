package org.sparkslim.compression.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.ModelZoo;

public class TrainingTest {
    public static final ImageShape SHAPE = new ImageShape(1, 12, 12);

    /** Class k is a bright horizontal bar at row 2k + 1 on noise: learnable in a few epochs. */
    public static LabeledImages bars(int n, long seed) {
        Random random = new Random(seed);
        byte[] pixels = new byte[n * SHAPE.pixels()];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = random.nextInt(4);
            for (int p = 0; p < SHAPE.pixels(); p++) {
                pixels[i * SHAPE.pixels() + p] = (byte) random.nextInt(60);
            }
            int row = 2 * labels[i] + 1;
            for (int x = 0; x < SHAPE.width(); x++) {
                pixels[i * SHAPE.pixels() + row * SHAPE.width() + x] = (byte) 250;
            }
        }
        return new LabeledImages(SHAPE, pixels, labels);
    }

    @Test
    void cosineDecaysFromTheTopToZero() {
        CosineDecaySchedule s = new CosineDecaySchedule(0.1, 100);
        assertEquals(0.1, s.valueAt(0, 0), 1e-12);
        assertEquals(0.05, s.valueAt(50, 0), 1e-12);
        assertEquals(0.0, s.valueAt(100, 0), 1e-12);
        assertEquals(0.0, s.valueAt(150, 3), 1e-12);
        assertTrue(s.valueAt(25, 0) > s.valueAt(26, 0));
    }

    @Test
    void metricsCountTopOneLossAndConfusion() {
        ClassificationMetrics m = new ClassificationMetrics(3);
        m.add(0, new float[] {0.7f, 0.2f, 0.1f});
        m.add(1, new float[] {0.6f, 0.3f, 0.1f});
        ClassificationMetrics other = new ClassificationMetrics(3);
        other.add(2, new float[] {0.1f, 0.1f, 0.8f});
        m.merge(other);
        assertEquals(3, m.count());
        assertEquals(2 / 3.0, m.top1(), 1e-12);
        assertEquals(-(Math.log(0.7) + Math.log(0.3) + Math.log(0.8)) / 3, m.loss(), 1e-6);
        assertEquals(1, m.confusion()[1][0]);
        assertEquals(0.0, m.perClassAccuracy()[1]);
    }

    @Test
    void trainingLearnsAndIsReproducible() throws Exception {
        LabeledImages train = bars(512, 1);
        LabeledImages val = bars(256, 2);
        BatchAssembler assembler = new BatchAssembler(SHAPE, 4, new Normalization(0.15, 0.3));
        TrainingRecipe recipe = new TrainingRecipe(3, 32, 0.05, 0.9, 5e-4, Augmentation.NONE, 11);

        double[] top1 = new double[2];
        String[] hashes = new String[2];
        for (int run = 0; run < 2; run++) {
            ModelFamily vgg = ModelZoo.family("vgg");
            ComputationGraph net = vgg.build(vgg.spec(vgg.baseWidths().scaled(0.25), SHAPE, 4, recipe.seed()));
            Trainer trainer = new Trainer(recipe, 4);
            net = trainer.prepare(net, train.size());
            List<EpochSummary> history = trainer.fit(net,
                    new InMemoryBatchSource(train, assembler, recipe.batchSize(), recipe.augmentation(), true, recipe.seed()),
                    InMemoryBatchSource.forEvaluation(val, assembler, 64), EpochCheckpoints.NONE);
            assertEquals(3, history.size());
            assertTrue(history.get(2).trainLoss() < history.get(0).trainLoss(), "loss falls: " + history);
            top1[run] = Evaluator.evaluate(net, InMemoryBatchSource.forEvaluation(val, assembler, 64), 4).top1();
            assertEquals(history.get(2).validationTop1(), top1[run], 1e-9);
            hashes[run] = ModelFiles.sha256(net.params().data().asBytes());
        }
        assertTrue(top1[0] > 0.9, "four bar positions are easy to tell apart, got top-1 " + top1[0]);
        assertEquals(hashes[0], hashes[1], "same seed, same data: same weights");
    }

    /** A learning rate far too large makes the loss NaN at once; training stops there, saying where and why. */
    @Test
    void divergingTrainingStopsAtTheFirstNonFiniteLoss() throws Exception {
        LabeledImages train = bars(256, 1);
        BatchAssembler assembler = new BatchAssembler(SHAPE, 4, new Normalization(0.15, 0.3));
        TrainingRecipe recipe = new TrainingRecipe(3, 32, 1e6, 0.9, 5e-4, Augmentation.NONE, 11);
        ModelFamily vgg = ModelZoo.family("vgg");
        Trainer trainer = new Trainer(recipe, 4);
        ComputationGraph net = trainer.prepare(vgg.build(vgg.spec(vgg.baseWidths().scaled(0.25), SHAPE, 4, 1)),
                train.size());
        TrainingDivergedException e = org.junit.jupiter.api.Assertions.assertThrows(TrainingDivergedException.class,
                () -> trainer.fit(net, new InMemoryBatchSource(train, assembler, 32, Augmentation.NONE, true, 1), null,
                        EpochCheckpoints.NONE));
        assertTrue(e.getMessage().contains("epoch 1, iteration") && e.getMessage().contains("learning rate"),
                e.getMessage());
    }
}
