package org.sparkslim.jobs.settings;

import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * The parts of the {@code train} section that every training shares (from scratch, fine-tuning,
 * QAT): batch size, momentum, weight decay, augmentation, whether to score val after each epoch, and
 * where the steps are taken. Epochs and learning rate belong to each training stage.
 */
public record RecipeSettings(int batchSize, double momentum, double weightDecay, Augmentation augmentation,
                             boolean validateEachEpoch, DistributedTraining distributed) {
    public static RecipeSettings read(SettingsReader r) {
        int batchSize = r.integer("train.batch-size", Range.atLeast(1));
        double momentum = r.number("train.momentum", new Range(0, false, 1, true));
        double weightDecay = r.number("train.weight-decay", Range.NON_NEGATIVE);
        int padding = r.integer("train.augmentation.padding", Range.NON_NEGATIVE);
        double flip = r.number("train.augmentation.flip-probability", Range.PROBABILITY);
        boolean validate = r.flag("train.validate-each-epoch");
        Augmentation augmentation = r.check("train.augmentation", () -> new Augmentation(padding, flip));
        return new RecipeSettings(batchSize, momentum, weightDecay, augmentation, validate, DistributedTraining.read(r));
    }

    public TrainingRecipe recipe(int epochs, double learningRate, long seed) {
        return new TrainingRecipe(epochs, batchSize, learningRate, momentum, weightDecay, augmentation, seed);
    }
}
