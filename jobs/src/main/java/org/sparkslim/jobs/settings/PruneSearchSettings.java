package org.sparkslim.jobs.settings;

import java.util.List;
import org.sparkslim.compression.search.AnnealingSettings;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.spark.ScoringEngine;

/**
 * The {@code prune-search} section: how many rounds of how many candidates the annealing runs, how
 * it anneals, how each candidate is scored (with {@code scoring.engine}), and a latency limit when the
 * constraint is latency rather than MACs.
 *
 * @param latency the latency constraint, or null for the MAC window of {@code prune.target-macs-reduction}
 */
public record PruneSearchSettings(int rounds, int candidatesPerRound, AnnealingSettings annealing, int maxImages,
                                  int batchSize, int threadsPerTask, ScoringEngine engine, LatencyLimit latency) {
    /**
     * Every candidate's estimated latency (ONNX Runtime, from a latency table) at most {@code fraction}
     * of the unpruned model's, at {@code batch}; the reward is val top-1 times (latency / limit) to the
     * power {@code weight} (0: top-1 alone).
     *
     * @param table  a latency-table stage whose units seed the table, or empty
     * @param timing how units the table lacks are timed ({@code latency-table.latency})
     */
    public record LatencyLimit(double fraction, int batch, String table, double weight, LatencySettings timing) {
        /** The reward of a candidate of {@code top1} taking {@code millis}, under a limit of {@code limitMillis}. */
        public double reward(double top1, double millis, double limitMillis) {
            return weight == 0 ? top1 : top1 * Math.pow(millis / limitMillis, weight);
        }
    }

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
        LatencyLimit latency = null;
        if (r.choice("prune-search.constraint", List.of("macs", "latency")).equals("latency")) {
            latency = new LatencyLimit(r.number("prune-search.latency-limit", Range.OPEN_FRACTION),
                    r.integer("prune-search.latency-batch", Range.atLeast(1)), r.string("prune-search.latency-table"),
                    r.number("prune-search.latency-weight", Range.ANY), LatencySettings.read(r, "latency-table"));
        }
        return new PruneSearchSettings(rounds, candidates, annealing,
                r.integer("prune-search.max-images", Range.NON_NEGATIVE),
                r.integer("prune-search.batch-size", Range.atLeast(1)),
                r.integer("prune-search.threads-per-task", Range.atLeast(1)),
                r.parsed("scoring.engine", ScoringEngine::parse), latency);
    }
}
