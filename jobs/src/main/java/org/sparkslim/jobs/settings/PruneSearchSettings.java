package org.sparkslim.jobs.settings;

import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.spark.ScoringEngine;

/**
 * The {@code prune-search} section: how the annealing runs, how each candidate is scored (with
 * {@code scoring.engine}), after what short retraining, and a latency limit when the constraint is
 * latency rather than MACs.
 *
 * @param startFrom a checkpoint (a stage of this run or a path) whose plan's widths the search starts
 *                  from, or "" to start from the uniform plan when it meets the constraint
 * @param latency   the latency constraint, or null for the MAC window of {@code prune.target-macs-reduction}
 */
public record PruneSearchSettings(AnnealingRoundsSettings rounds, String startFrom, int maxImages, int batchSize,
                                  int threadsPerTask, ScoringEngine engine, Retrain retrain, LatencyLimit latency) {
    /**
     * Each candidate trained {@code epochs} (0: not at all) on the first {@code images} train images from
     * {@code learningRate} (cosine) before it is scored, with the train recipe's other settings.
     */
    public record Retrain(int epochs, int images, double learningRate) {
        static final Retrain NONE = new Retrain(0, 0, 0);

        public boolean enabled() {
            return epochs > 0;
        }
    }

    public static PruneSearchSettings read(SettingsReader r) {
        return new PruneSearchSettings(AnnealingRoundsSettings.read(r, "prune-search"),
                r.string("prune-search.start-from"),
                r.integer("prune-search.max-images", Range.NON_NEGATIVE),
                r.integer("prune-search.batch-size", Range.atLeast(1)),
                r.integer("prune-search.threads-per-task", Range.atLeast(1)),
                r.parsed("scoring.engine", ScoringEngine::parse), readRetrain(r),
                LatencyLimit.readIfConstrained(r, "prune-search"));
    }

    /** Images and learning rate are read only for a retraining, so that they sign nothing otherwise. */
    private static Retrain readRetrain(SettingsReader r) {
        int epochs = r.integer("prune-search.retrain.epochs", Range.NON_NEGATIVE);
        if (epochs == 0) {
            return Retrain.NONE;
        }
        return new Retrain(epochs, r.integer("prune-search.retrain.images", Range.atLeast(1)),
                r.number("prune-search.retrain.learning-rate", Range.POSITIVE));
    }
}
