package org.sparkslim.compression.train;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Learning rate {@code initial * (1 + cos(pi * t / total)) / 2} at iteration {@code t}, reaching 0
 * at {@code total} and staying there. Per iteration, as the benchmark recipe asks. It is stored in
 * the model's JSON, hence the Jackson annotations (ND4J's shaded Jackson).
 */
public final class CosineDecaySchedule implements ISchedule {
    private final double initialValue;
    private final int totalIterations;

    public CosineDecaySchedule(@JsonProperty("initialValue") double initialValue,
                               @JsonProperty("totalIterations") int totalIterations) {
        if (totalIterations < 1) {
            throw new IllegalArgumentException("cosine schedule needs at least one iteration, got " + totalIterations);
        }
        this.initialValue = initialValue;
        this.totalIterations = totalIterations;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        double progress = Math.min(1.0, Math.max(0, iteration) / (double) totalIterations);
        return initialValue * 0.5 * (1 + Math.cos(Math.PI * progress));
    }

    public double getInitialValue() {
        return initialValue;
    }

    public int getTotalIterations() {
        return totalIterations;
    }

    @Override
    public ISchedule clone() {
        return new CosineDecaySchedule(initialValue, totalIterations);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CosineDecaySchedule c && c.initialValue == initialValue && c.totalIterations == totalIterations;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(initialValue) * 31 + totalIterations;
    }
}
