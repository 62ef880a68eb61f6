package org.sparkslim.jobs.settings;

import java.util.List;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * A search's latency constraint: every candidate's estimated latency (ONNX Runtime, from a latency
 * table) at most {@code fraction} of a reference model's, at {@code batch}; the reward is val top-1
 * times (latency / limit) to the power {@code weight} (0: top-1 alone).
 *
 * @param table  a latency-table stage whose units seed the table, or empty
 * @param timing how units the table lacks are timed ({@code latency-table.latency})
 */
public record LatencyLimit(double fraction, int batch, String table, double weight, LatencySettings timing) {
    /**
     * The limit of {@code <section>.latency-limit}, {@code -batch}, {@code -table} and {@code -weight}
     * when {@code <section>.constraint} is {@code latency}; null when it is {@code macs}.
     */
    public static LatencyLimit readIfConstrained(SettingsReader r, String section) {
        if (!r.choice(section + ".constraint", List.of("macs", "latency")).equals("latency")) {
            return null;
        }
        return new LatencyLimit(r.number(section + ".latency-limit", Range.OPEN_FRACTION),
                r.integer(section + ".latency-batch", Range.atLeast(1)), r.string(section + ".latency-table"),
                r.number(section + ".latency-weight", Range.ANY), LatencySettings.read(r, "latency-table"));
    }

    /** The reward of a candidate of {@code top1} taking {@code millis}, under a limit of {@code limitMillis}. */
    public double reward(double top1, double millis, double limitMillis) {
        return weight == 0 ? top1 : top1 * Math.pow(millis / limitMillis, weight);
    }
}
