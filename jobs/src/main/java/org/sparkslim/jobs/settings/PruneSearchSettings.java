package org.sparkslim.jobs.settings;

import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.spark.ScoringEngine;

/**
 * The {@code prune-search} section: how the annealing runs, how each candidate is scored (with
 * {@code scoring.engine}), and a latency limit when the constraint is latency rather than MACs.
 *
 * @param latency the latency constraint, or null for the MAC window of {@code prune.target-macs-reduction}
 */
public record PruneSearchSettings(AnnealingRoundsSettings rounds, int maxImages, int batchSize, int threadsPerTask,
                                  ScoringEngine engine, LatencyLimit latency) {
    public static PruneSearchSettings read(SettingsReader r) {
        return new PruneSearchSettings(AnnealingRoundsSettings.read(r, "prune-search"),
                r.integer("prune-search.max-images", Range.NON_NEGATIVE),
                r.integer("prune-search.batch-size", Range.atLeast(1)),
                r.integer("prune-search.threads-per-task", Range.atLeast(1)),
                r.parsed("scoring.engine", ScoringEngine::parse), LatencyLimit.readIfConstrained(r, "prune-search"));
    }
}
