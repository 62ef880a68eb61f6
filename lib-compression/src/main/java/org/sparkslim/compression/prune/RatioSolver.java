package org.sparkslim.compression.prune;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds pruning ratios that remove a target fraction of a network's MACs, by bisection:
 * <ul>
 *   <li>{@link #uniform}: one ratio for every prunable group;</li>
 *   <li>{@link #fromSensitivity}: a threshold on each group's measured accuracy drop; each group is
 *   pruned as far as its sensitivity curve (interpolated linearly) stays under the threshold.</li>
 * </ul>
 * Channel counts are whole numbers (and maybe multiples), so the reachable reductions are discrete:
 * the result is the closest plan found, with its achieved reduction.
 */
public final class RatioSolver {
    private static final Logger LOG = LoggerFactory.getLogger(RatioSolver.class);
    private static final int MAX_STEPS = 40;

    private final PlanBuilder builder;
    private final ToLongFunction<PruningPlan> macs;
    private final long baseMacs;

    /** @param macs the MACs of the network a plan would produce */
    public RatioSolver(PlanBuilder builder, ToLongFunction<PruningPlan> macs) {
        this.builder = builder;
        this.macs = macs;
        this.baseMacs = macs.applyAsLong(PruningPlan.empty("none"));
    }

    /** A plan and the MAC reduction it achieves (0.5 = half the MACs removed). */
    public record Solution(PruningPlan plan, Map<String, Double> ratios, double reduction) {
    }

    public Solution uniform(double targetReduction, double tolerance) {
        return bisect("uniform ratio", targetReduction, tolerance, 0, 1, this::uniformRatios);
    }

    /**
     * @param curves for each group, its measured points (ratio, drop), any order; (0, 0) is implied
     */
    public Solution fromSensitivity(Map<String, List<double[]>> curves, double targetReduction, double tolerance) {
        double maxDrop = curves.values().stream().flatMap(List::stream).mapToDouble(p -> p[1]).max().orElse(0);
        return bisect("drop threshold", targetReduction, tolerance, 0, Math.max(maxDrop, 1e-9) * 1.001,
                threshold -> thresholdRatios(curves, threshold));
    }

    /** The largest ratio whose interpolated drop stays at or below {@code threshold}. */
    static double ratioAt(List<double[]> curve, double threshold) {
        double[][] points = curve.stream().sorted((a, b) -> Double.compare(a[0], b[0])).toArray(double[][]::new);
        double prevRatio = 0;
        double prevDrop = 0;
        for (double[] p : points) {
            if (p[1] > threshold) {
                if (p[1] == prevDrop) {
                    return prevRatio;
                }
                return prevRatio + (p[0] - prevRatio) * (threshold - prevDrop) / (p[1] - prevDrop);
            }
            prevRatio = p[0];
            prevDrop = Math.max(prevDrop, p[1]);
        }
        return prevRatio;
    }

    private Map<String, Double> uniformRatios(double ratio) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        builder.prunable().forEach(g -> ratios.put(g.name(), ratio));
        return ratios;
    }

    private Map<String, Double> thresholdRatios(Map<String, List<double[]>> curves, double threshold) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        for (ChannelGroup g : builder.prunable()) {
            List<double[]> curve = curves.get(g.name());
            ratios.put(g.name(), curve == null ? 0.0 : ratioAt(curve, threshold));
        }
        return ratios;
    }

    private Solution bisect(String knob, double target, double tolerance, double lo, double hi,
                            java.util.function.DoubleFunction<Map<String, Double>> ratiosAt) {
        if (target <= 0 || target >= 1) {
            throw new IllegalArgumentException("target MAC reduction must be in (0, 1), got " + target);
        }
        Solution best = solution(ratiosAt.apply(lo));
        for (int step = 0; step < MAX_STEPS; step++) {
            double mid = (lo + hi) / 2;
            Solution s = solution(ratiosAt.apply(mid));
            if (Math.abs(s.reduction() - target) < Math.abs(best.reduction() - target)) {
                best = s;
            }
            if (Math.abs(s.reduction() - target) <= tolerance * target) {
                break;
            }
            if (s.reduction() < target) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        if (Math.abs(best.reduction() - target) > tolerance * target) {
            LOG.warn(String.format("closest MAC reduction found by bisecting the %s is %.2f%%, target %.2f%% "
                    + "(channel counts are discrete; a finer round-to or more groups in scope gets closer)",
                    knob, 100 * best.reduction(), 100 * target));
        }
        return best;
    }

    private Solution solution(Map<String, Double> ratios) {
        PruningPlan plan = builder.plan(ratios);
        return new Solution(plan, ratios, 1 - macs.applyAsLong(plan) / (double) baseMacs);
    }
}
