package org.sparkslim.compression.search;

/**
 * How the annealing controller searches.
 *
 * @param initialTemperature the temperature of round 1; a worse candidate is accepted with probability
 *                           {@code exp((reward - current) / temperature)}
 * @param reduceRate         the temperature of round {@code r} is {@code initialTemperature * reduceRate^(r-1)}
 * @param mutatedPositions   how many positions a proposal changes
 * @param maxRetries         draws allowed per proposal before the search gives up (a draw fails when it breaks
 *                           the constraint or repeats a candidate)
 * @param seed               every random choice of the search derives from it
 */
public record AnnealingSettings(double initialTemperature, double reduceRate, int mutatedPositions, int maxRetries,
                                long seed) {
    public AnnealingSettings {
        if (!(initialTemperature > 0) || Double.isInfinite(initialTemperature)) {
            throw new IllegalArgumentException("initial temperature must be positive and finite, not " + initialTemperature);
        }
        if (!(reduceRate > 0 && reduceRate <= 1)) {
            throw new IllegalArgumentException("reduce rate must be in (0, 1], not " + reduceRate);
        }
        if (mutatedPositions < 1) {
            throw new IllegalArgumentException("a proposal must change at least one position, not " + mutatedPositions);
        }
        if (maxRetries < 1) {
            throw new IllegalArgumentException("max retries must be at least 1, not " + maxRetries);
        }
    }

    /** The temperature of round {@code round} (1-based). */
    public double temperature(int round) {
        return initialTemperature * Math.pow(reduceRate, Math.max(0, round - 1));
    }
}
