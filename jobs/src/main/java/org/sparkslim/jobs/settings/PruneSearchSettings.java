package org.sparkslim.jobs.settings;

import org.sparkslim.compression.search.AnnealingSettings;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.spark.ScoringEngine;

/**
 * The {@code prune-search} section: how many rounds of how many candidates the annealing runs, how
 * it anneals, and how each candidate is scored (with {@code scoring.engine}).
 */
public record PruneSearchSettings(int rounds, int candidatesPerRound, AnnealingSettings annealing, int maxImages,
                                  int batchSize, int threadsPerTask, ScoringEngine engine) {
    public static PruneSearchSettings read(SettingsReader r) {
        int rounds = r.integer("prune-search.rounds", Range.atLeast(1));
        int candidates = r.integer("prune-search.candidates-per-round", Range.atLeast(1));
        double temperature = r.number("prune-search.initial-temperature", Range.POSITIVE);
        double reduceRate = r.number("prune-search.reduce-rate", new Range(0, true, 1, false));
        int mutated = r.integer("prune-search.mutated-positions", Range.atLeast(1));
        int retries = r.integer("prune-search.max-retries", Range.atLeast(1));
        Long seed = r.wholeOrNull("prune-search.seed");
        AnnealingSettings annealing = r.check("prune-search.reduce-rate", () -> new AnnealingSettings(temperature,
                reduceRate, mutated, retries, seed != null ? seed : r.whole("run.seed")));
        return new PruneSearchSettings(rounds, candidates, annealing,
                r.integer("prune-search.max-images", Range.NON_NEGATIVE),
                r.integer("prune-search.batch-size", Range.atLeast(1)),
                r.integer("prune-search.threads-per-task", Range.atLeast(1)),
                r.parsed("scoring.engine", ScoringEngine::parse));
    }
}
