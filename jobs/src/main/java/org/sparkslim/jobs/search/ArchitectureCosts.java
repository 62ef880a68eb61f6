package org.sparkslim.jobs.search;

import ai.onnxruntime.OrtException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.latency.LatencyTable;
import org.sparkslim.compression.model.InvertedResidualLayout;
import org.sparkslim.compression.model.MobileNetV2;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.search.ArchitectureSpace;
import org.sparkslim.compression.search.Constraint;
import org.sparkslim.jobs.onnx.LatencyEstimator;

/**
 * What each candidate of a Light-NAS search costs, known before it is trained: its MACs, and its
 * latency estimated from the latency table (null estimator: none). The driver builds each candidate
 * once (untrained: neither cost depends on the weights) and keeps its costs by tokens.
 */
public final class ArchitectureCosts {
    private final ArchitectureSpace space;
    private final ImageShape shape;
    private final int numClasses;
    private final LatencyEstimator estimator;
    private final Map<List<Integer>, Cost> costs = new HashMap<>();

    /** @param millis NaN without a latency estimator */
    public record Cost(long macs, double millis) {
    }

    public ArchitectureCosts(ArchitectureSpace space, ImageShape shape, int numClasses, LatencyEstimator estimator) {
        this.space = space;
        this.shape = shape;
        this.numClasses = numClasses;
        this.estimator = estimator;
    }

    /** The costs of the network {@code layout} describes. */
    public Cost of(InvertedResidualLayout layout) {
        MobileNetV2 family = new MobileNetV2(layout);
        ComputationGraph net = family.build(family.spec(family.baseWidths(), shape, numClasses, 0));
        try {
            return new Cost(ModelCost.of(net, shape).macs(), estimator == null ? Double.NaN : estimator.millis(net));
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not time the candidate " + layout + ": " + e.getMessage(),
                    e);
        }
    }

    public Cost of(int[] tokens) {
        return costs.computeIfAbsent(Arrays.stream(tokens).boxed().toList(), t -> of(space.layout(tokens)));
    }

    /** Candidates of at most {@code macLimit} MACs and, with an estimator, at most {@code millisLimit} ms. */
    public Constraint constraint(String description, long macLimit, double millisLimit) {
        return new Constraint(description, t -> {
            Cost c = of(t);
            return c.macs() <= macLimit && (estimator == null || c.millis() <= millisLimit);
        });
    }

    /** The latency table with every unit timed so far (null without an estimator). */
    public LatencyTable table() {
        return estimator == null ? null : estimator.table();
    }
}
