package org.sparkslim.jobs.settings;

import org.sparkslim.compression.search.AnnealingSettings;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * How a search section ({@code prune-search}, {@code nas}) anneals: how many rounds of how many
 * candidates, the temperature and its decay, mutations and retries, and the seed (null: {@code run.seed}).
 */
public record AnnealingRoundsSettings(int rounds, int candidatesPerRound, AnnealingSettings annealing) {
    public static AnnealingRoundsSettings read(SettingsReader r, String section) {
        int rounds = r.integer(section + ".rounds", Range.atLeast(1));
        int candidates = r.integer(section + ".candidates-per-round", Range.atLeast(1));
        double temperature = r.number(section + ".initial-temperature", Range.POSITIVE);
        double reduceRate = r.number(section + ".reduce-rate", new Range(0, true, 1, false));
        int mutated = r.integer(section + ".mutated-positions", Range.atLeast(1));
        int retries = r.integer(section + ".max-retries", Range.atLeast(1));
        Long seed = r.wholeOrNull(section + ".seed");
        AnnealingSettings annealing = r.check(section + ".reduce-rate", () -> new AnnealingSettings(temperature,
                reduceRate, mutated, retries, seed != null ? seed : r.whole("run.seed")));
        return new AnnealingRoundsSettings(rounds, candidates, annealing);
    }
}
