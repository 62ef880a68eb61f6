package org.sparkslim.jobs.pruning;

import ai.onnxruntime.OrtException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.latency.LatencyTable;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.search.Constraint;
import org.sparkslim.compression.search.PruningSpace;
import org.sparkslim.jobs.onnx.LatencyEstimator;
import org.sparkslim.jobs.settings.LatencyLimit;

/**
 * A search's latency constraint and reward: each candidate is pruned on the driver and its latency
 * estimated from the table ({@link LatencyEstimator}, which times the units it meets for the first
 * time), at most {@code fraction} of the unpruned model's. Estimates are kept per candidate, and the
 * table goes with the search's saved rounds, so a resumed search sees the times the killed one saw.
 */
public final class LatencyBudget {
    private final ComputationGraph dense;
    private final PruningSpace space;
    private final LatencyEstimator estimator;
    private final LatencyLimit limit;
    private final double denseMillis;
    private final Map<List<Integer>, Double> estimates = new HashMap<>();

    public LatencyBudget(ComputationGraph dense, PruningSpace space, LatencyEstimator estimator,
                         LatencyLimit limit) throws OrtException {
        this.dense = dense;
        this.space = space;
        this.estimator = estimator;
        this.limit = limit;
        this.denseMillis = estimator.millis(dense);
    }

    public double denseMillis() {
        return denseMillis;
    }

    public double limitMillis() {
        return limit.fraction() * denseMillis;
    }

    /** The estimated latency of the candidate {@code tokens}. */
    public double millis(int[] tokens) {
        return estimates.computeIfAbsent(Arrays.stream(tokens).boxed().toList(), t -> {
            try {
                return estimator.millis(Pruner.apply(dense, space.plan(tokens)));
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime could not time a pruned candidate: " + e.getMessage(), e);
            }
        });
    }

    public double reward(double top1, double millis) {
        return limit.reward(top1, millis, limitMillis());
    }

    public Constraint constraint() {
        return new Constraint(String.format("estimated latency at batch %d at most %.0f%% of the unpruned model's"
                + " %.3f ms", limit.batch(), 100 * limit.fraction(), denseMillis), t -> millis(t) <= limitMillis());
    }

    public LatencyTable table() {
        return estimator.table();
    }
}
