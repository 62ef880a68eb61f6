package org.sparkslim.compression.train;

import java.io.Serializable;
import org.sparkslim.compression.data.Augmentation;

/**
 * How to train: SGD with Nesterov momentum, a per-iteration cosine decay of the learning rate to 0,
 * L2 weight decay (added to the gradient, as SGD's weight decay is usually defined), an optional L1
 * penalty on batch norm scales ({@link BatchNormScaleShrinkage}; 0: none), augmentation and the seed
 * that fixes initialization order, shuffling and augmentation.
 */
public record TrainingRecipe(int epochs, int batchSize, double learningRate, double momentum,
                             double weightDecay, double bnScaleL1, Augmentation augmentation, long seed)
        implements Serializable {
    public TrainingRecipe {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be at least 1, got " + epochs);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("learning rate must be positive, got " + learningRate);
        }
        if (momentum < 0 || momentum >= 1) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        if (weightDecay < 0) {
            throw new IllegalArgumentException("weight decay must not be negative, got " + weightDecay);
        }
        if (bnScaleL1 < 0) {
            throw new IllegalArgumentException("the batch norm scale penalty must not be negative, got " + bnScaleL1);
        }
    }

    /** A recipe without the batch norm scale penalty. */
    public TrainingRecipe(int epochs, int batchSize, double learningRate, double momentum, double weightDecay,
                          Augmentation augmentation, long seed) {
        this(epochs, batchSize, learningRate, momentum, weightDecay, 0, augmentation, seed);
    }

    /** The benchmark's recipe for training from scratch: 15 epochs, batch 128, lr 0.1, wd 5e-4. */
    public static TrainingRecipe fromScratch(long seed) {
        return new TrainingRecipe(15, 128, 0.1, 0.9, 5e-4, Augmentation.CROP_AND_FLIP, seed);
    }

    public TrainingRecipe withEpochs(int newEpochs) {
        return new TrainingRecipe(newEpochs, batchSize, learningRate, momentum, weightDecay, bnScaleL1, augmentation,
                seed);
    }

    public TrainingRecipe withBnScaleL1(double penalty) {
        return new TrainingRecipe(epochs, batchSize, learningRate, momentum, weightDecay, penalty, augmentation, seed);
    }
}
