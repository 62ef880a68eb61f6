package org.sparkslim.jobs.settings;

import java.util.List;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.spark.ScoringEngine;

/**
 * The {@code sensitivity} section: the ratios each group is pruned at, and how the points are scored
 * (with {@code scoring.engine}).
 */
public record SensitivitySettings(List<Double> ratios, int maxImages, int batchSize, int threadsPerTask,
                                  ScoringEngine engine) {
    public static SensitivitySettings read(SettingsReader r) {
        List<Double> ratios = r.numbers("sensitivity.ratios", Range.OPEN_FRACTION);
        if (ratios.isEmpty()) {
            r.fault("sensitivity.ratios", "is empty; list the ratios to measure, e.g. [0.1, 0.3, 0.5]");
        }
        return new SensitivitySettings(ratios, r.integer("sensitivity.max-images", Range.NON_NEGATIVE),
                r.integer("sensitivity.batch-size", Range.atLeast(1)),
                r.integer("sensitivity.threads-per-task", Range.atLeast(1)), r.parsed("scoring.engine", ScoringEngine::parse));
    }
}
