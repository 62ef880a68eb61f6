package org.sparkslim.compression.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;

class BatchNormScaleShrinkageTest {
    static ComputationGraph smallVgg(long seed) {
        ModelFamily vgg = ModelZoo.family("vgg");
        return vgg.build(vgg.spec(vgg.baseWidths().scaled(0.25), TrainingTest.SHAPE, 4, seed));
    }

    @Test
    void scalesMoveTowardZeroAndStopThere() {
        ComputationGraph net = smallVgg(1);
        INDArray gamma = net.getLayer("conv1.bn").getParam("gamma");
        float[] before = new float[(int) gamma.length()];
        before[0] = 0.5f;
        before[1] = -0.2f;
        before[2] = 0.05f;
        before[3] = -0.01f;
        for (int i = 4; i < before.length; i++) {
            before[i] = 1f;
        }
        gamma.assign(Nd4j.createFromArray(before).reshape(gamma.shape()));
        BatchNormScaleShrinkage.apply(net, 0.1);
        float[] after = gamma.toFloatVector();
        assertArrayEquals(new float[] {0.4f, -0.1f, 0f, 0f, 0.9f}, java.util.Arrays.copyOf(after, 5), 1e-6f);
        // every batch norm is shrunk, not only the first
        assertEquals(0.9f, net.getLayer("conv6.bn").getParam("gamma").getFloat(0), 1e-6f);
        assertEquals(2, BatchNormScaleShrinkage.zeroScales(net).zero());
    }

    @Test
    void trainingWithThePenaltyEndsWithScalesAtZeroAndWithoutItNone() throws Exception {
        LabeledImages train = TrainingTest.bars(256, 1);
        BatchAssembler assembler = new BatchAssembler(TrainingTest.SHAPE, 4, new Normalization(0.15, 0.3));
        long[] zeros = new long[2];
        double[] penalties = {0, 4};
        for (int run = 0; run < 2; run++) {
            TrainingRecipe recipe = new TrainingRecipe(2, 32, 0.05, 0.9, 5e-4, Augmentation.NONE, 11)
                    .withBnScaleL1(penalties[run]);
            Trainer trainer = new Trainer(recipe, 4);
            ComputationGraph net = trainer.prepare(smallVgg(recipe.seed()), train.size());
            trainer.fit(net, new InMemoryBatchSource(train, assembler, recipe.batchSize(), recipe.augmentation(), true,
                    recipe.seed()), null, EpochCheckpoints.NONE);
            zeros[run] = BatchNormScaleShrinkage.zeroScales(net).zero();
        }
        assertEquals(0, zeros[0], "no penalty, no scale at exactly 0");
        // 16 steps at a mean learning rate of 0.025 move a scale by up to 1.6, from 1 at the start
        assertTrue(zeros[1] > 0, "the penalty puts scales at exactly 0");
    }

    @Test
    void aNegativePenaltyIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> new TrainingRecipe(1, 8, 0.1, 0.9, 0, Augmentation.NONE, 1).withBnScaleL1(-1e-4));
    }
}
