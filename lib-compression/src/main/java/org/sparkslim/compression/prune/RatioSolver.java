package org.sparkslim.compression.prune;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds pruning ratios that remove a target fraction of a network's MACs, by bisection:
 * <ul>
 *   <li>{@link #uniform}: one ratio for every prunable group;</li>
 *   <li>{@link #fromSensitivity}: a threshold on each group's measured accuracy drop; each group is
 *   pruned as far as its sensitivity curve (interpolated linearly) stays under the threshold, and each
 *   removable residual block whose removal drops less is removed.</li>
 * </ul>
 * and without bisection:
 * <ul>
 *   <li>{@link #greedyFromSensitivity}: channels are removed one allowed width step at a time from the
 *   group whose curve predicts the smallest drop per MAC saved.</li>
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

    /** A given plan (one replayed as it is) with its groups' ratios and the reduction it achieves. */
    public Solution of(PruningPlan plan) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        plan.groups().forEach(g -> ratios.put(g.group(), 1 - g.kept().length / (double) g.size()));
        plan.removedBlocks().forEach(b -> ratios.put(b, 1.0));
        return new Solution(plan, ratios, reduction(plan));
    }

    public Solution uniform(double targetReduction, double tolerance) {
        return bisect("uniform ratio", targetReduction, tolerance, 0, 1, this::uniformRatios);
    }

    /**
     * @param curves for each group, its measured points (ratio, drop), any order; (0, 0) is implied
     */
    public Solution fromSensitivity(SensitivityCurves curves, double targetReduction, double tolerance) {
        double maxDrop = curves.maxDrop();
        return bisect("drop threshold", targetReduction, tolerance, 0, Math.max(maxDrop, 1e-9) * 1.001,
                threshold -> thresholdRatios(curves, threshold));
    }

    /**
     * Walks down from the full network one step at a time (a group narrowed to its next allowed width,
     * or a removable residual block removed whole), always taking the step with the smallest predicted
     * drop per MAC saved, and stops at the target. A threshold's per-group ratios are rounded to
     * allowed widths independently, which with coarse rounding (multiples of 16) can turn a small
     * difference in sensitivity into a whole step of channels; here every candidate is a width the
     * plan can hold, so the ranking is kept.
     * Predicted drops are the groups' single-group drops (curve envelope, linear between points),
     * added; a group is never pruned past the largest ratio its curve measured.
     *
     * @param curves for each group, its measured points (ratio, drop), any order; (0, 0) is implied
     */
    public Solution greedyFromSensitivity(SensitivityCurves curves, double targetReduction,
                                          double tolerance) {
        checkTarget(targetReduction);
        double low = targetReduction * (1 - tolerance);
        double high = targetReduction * (1 + tolerance);
        List<Unit> units = units().stream().filter(u -> curves.has(u.name())).toList();
        Map<String, Integer> kept = new LinkedHashMap<>();
        units.forEach(u -> kept.put(u.name(), u.size()));
        Solution current = solution(ratiosOf(units, kept));
        while (current.reduction() < low) {
            List<Step> steps = new ArrayList<>();
            for (Unit u : units) {
                List<SensitivityCurves.Point> curve = curves.curve(u.name());
                int width = kept.get(u.name());
                int next = nextWidth(u.allowedWidths(), width);
                if (next == width || 1 - next / (double) u.size() > maxRatio(curve)) {
                    continue;
                }
                kept.put(u.name(), next);
                Solution after = solution(ratiosOf(units, kept));
                kept.put(u.name(), width);
                // zero for a group inside a removed block: its MACs went with the block
                double saved = after.reduction() - current.reduction();
                if (saved > 0) {
                    double cost = dropAt(curve, 1 - next / (double) u.size())
                            - dropAt(curve, 1 - width / (double) u.size());
                    steps.add(new Step(u.name(), next, after, cost, saved));
                }
            }
            // land within the tolerance as cheaply as possible; until then, the best drop per MAC among
            // steps that do not overshoot; if every step overshoots, the smallest one
            Optional<Step> take = steps.stream()
                    .filter(st -> st.after().reduction() <= high && st.after().reduction() >= low)
                    .min(Comparator.comparingDouble(Step::cost))
                    .or(() -> steps.stream().filter(st -> st.after().reduction() <= high)
                            .min(Comparator.comparingDouble(Step::costPerMac)
                                    .thenComparing(Step::saved, Comparator.reverseOrder())))
                    .or(() -> steps.stream().min(Comparator.comparingDouble(Step::saved)));
            if (take.isEmpty()) {
                break;
            }
            kept.put(take.get().group(), take.get().width());
            current = take.get().after();
        }
        warnIfOff("greedy width steps", current, targetReduction, tolerance);
        return current;
    }

    /**
     * What the greedy walk narrows one step at a time: a channel group (its channel count, down its
     * allowed widths) or a removable residual block (size 1: kept or removed).
     */
    private record Unit(String name, int size, int[] allowedWidths) {
    }

    private List<Unit> units() {
        List<Unit> units = new ArrayList<>();
        builder.prunable().forEach(g -> units.add(new Unit(g.name(), g.size(), builder.allowedWidths(g))));
        builder.removableBlocks().forEach(b -> units.add(new Unit(b.name(), 1, new int[] {1, 0})));
        return units;
    }

    /** Narrowing one unit to {@code width}: the plan after it, its predicted drop and the MACs it saves. */
    private record Step(String group, int width, Solution after, double cost, double saved) {
        double costPerMac() {
            return cost / saved;
        }
    }

    /** The next allowed width below {@code width}, or {@code width} itself when there is none. */
    private static int nextWidth(int[] allowedDescending, int width) {
        for (int w : allowedDescending) {
            if (w < width) {
                return w;
            }
        }
        return width;
    }

    private static Map<String, Double> ratiosOf(List<Unit> units, Map<String, Integer> kept) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        units.forEach(u -> ratios.put(u.name(), 1 - kept.get(u.name()) / (double) u.size()));
        return ratios;
    }

    private static double maxRatio(List<SensitivityCurves.Point> curve) {
        return curve.stream().mapToDouble(SensitivityCurves.Point::ratio).max().orElse(0) + 1e-9;
    }

    /** The drop at {@code ratio} on the curve's running maximum, linear between points, (0, 0) implied. */
    static double dropAt(List<SensitivityCurves.Point> curve, double ratio) {
        List<SensitivityCurves.Point> points = sorted(curve);
        double prevRatio = 0;
        double prevDrop = 0;
        for (SensitivityCurves.Point p : points) {
            double drop = Math.max(prevDrop, p.drop());
            if (ratio <= p.ratio()) {
                return p.ratio() == prevRatio ? drop
                        : prevDrop + (drop - prevDrop) * (ratio - prevRatio) / (p.ratio() - prevRatio);
            }
            prevRatio = p.ratio();
            prevDrop = drop;
        }
        return prevDrop;
    }

    private static List<SensitivityCurves.Point> sorted(List<SensitivityCurves.Point> curve) {
        return curve.stream().sorted(Comparator.comparingDouble(SensitivityCurves.Point::ratio)).toList();
    }

    /** The largest ratio whose interpolated drop stays at or below {@code threshold}. */
    static double ratioAt(List<SensitivityCurves.Point> curve, double threshold) {
        List<SensitivityCurves.Point> points = sorted(curve);
        double prevRatio = 0;
        double prevDrop = 0;
        for (SensitivityCurves.Point p : points) {
            if (p.drop() > threshold) {
                if (p.drop() == prevDrop) {
                    return prevRatio;
                }
                return prevRatio + (p.ratio() - prevRatio) * (threshold - prevDrop) / (p.drop() - prevDrop);
            }
            prevRatio = p.ratio();
            prevDrop = Math.max(prevDrop, p.drop());
        }
        return prevRatio;
    }

    private Map<String, Double> uniformRatios(double ratio) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        builder.prunable().forEach(g -> ratios.put(g.name(), ratio));
        return ratios;
    }

    private Map<String, Double> thresholdRatios(SensitivityCurves curves, double threshold) {
        Map<String, Double> ratios = new LinkedHashMap<>();
        for (ChannelGroup g : builder.prunable()) {
            List<SensitivityCurves.Point> curve = curves.curve(g.name());
            ratios.put(g.name(), curve == null ? 0.0 : ratioAt(curve, threshold));
        }
        for (ResidualBlock b : builder.removableBlocks()) {
            List<SensitivityCurves.Point> curve = curves.curve(b.name());
            ratios.put(b.name(), curve != null && dropAt(curve, 1) <= threshold ? 1.0 : 0.0);
        }
        return ratios;
    }

    private Solution bisect(String knob, double target, double tolerance, double lo, double hi,
                            java.util.function.DoubleFunction<Map<String, Double>> ratiosAt) {
        checkTarget(target);
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
        warnIfOff("bisecting the " + knob, best, target, tolerance);
        return best;
    }

    private static void checkTarget(double target) {
        if (target <= 0 || target >= 1) {
            throw new IllegalArgumentException("target MAC reduction must be in (0, 1), got " + target);
        }
    }

    private static void warnIfOff(String how, Solution found, double target, double tolerance) {
        if (Math.abs(found.reduction() - target) > tolerance * target) {
            LOG.warn(String.format("closest MAC reduction found by %s is %.2f%%, target %.2f%% "
                    + "(channel counts are discrete; a finer round-to or more groups in scope gets closer)",
                    how, 100 * found.reduction(), 100 * target));
        }
    }

    private Solution solution(Map<String, Double> ratios) {
        PruningPlan plan = builder.plan(ratios);
        return new Solution(plan, ratios, reduction(plan));
    }

    private double reduction(PruningPlan plan) {
        return 1 - macs.applyAsLong(plan) / (double) baseMacs;
    }
}
