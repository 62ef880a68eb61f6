package org.sparkslim.jobs.settings;

import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * How a pruned model is fine-tuned (by {@code finetune} and between the steps of
 * {@code prune-iterative}): the {@code train} recipe from {@code finetune.learning-rate}, with the
 * fine-tuning seed, optionally against a teacher.
 */
public record FineTuning(RecipeSettings recipe, double learningRate, long seed, TeacherSettings teacher) {
    public static FineTuning read(SettingsReader r) {
        double learningRate = r.number("finetune.learning-rate", Range.POSITIVE);
        // null: the run's seed; another value repeats only the fine-tuning
        Long seed = r.wholeOrNull("finetune.seed");
        RecipeSettings recipe = RecipeSettings.read(r);
        TeacherSettings teacher = TeacherSettings.read(r, "finetune.teacher");
        teacher.checkLocalSteps(r, recipe, "finetune.teacher");
        return new FineTuning(recipe, learningRate, seed != null ? seed : r.whole("run.seed"), teacher);
    }

    /** The recipe for {@code epochs}, its seed moved by {@code seedOffset} so that steps see different batches. */
    public TrainingRecipe recipe(int epochs, int seedOffset) {
        return recipe.recipe(epochs, learningRate, seed + seedOffset);
    }
}
