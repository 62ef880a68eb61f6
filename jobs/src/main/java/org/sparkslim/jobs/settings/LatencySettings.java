package org.sparkslim.jobs.settings;

import java.util.List;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/** How latency is timed ({@code <section>.latency}): batch sizes, warm-up and timed runs, native threads. */
public record LatencySettings(List<Integer> batchSizes, int warmup, int runs, int threads) {
    public static LatencySettings read(SettingsReader r, String section) {
        return new LatencySettings(r.integers(section + ".latency.batch-sizes", Range.atLeast(1)),
                r.integer(section + ".latency.warmup", Range.NON_NEGATIVE),
                r.integer(section + ".latency.runs", Range.atLeast(1)),
                r.integer(section + ".latency.threads", Range.atLeast(1)));
    }
}
