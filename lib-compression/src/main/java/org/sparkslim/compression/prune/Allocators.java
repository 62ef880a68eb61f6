package org.sparkslim.compression.prune;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sparkslim.compression.util.Suggestions;

/** The allocators SparkSlim ships, by name. */
public final class Allocators {
    /** One ratio for every prunable group, bisected to the target. */
    public static final Allocator UNIFORM = simple("uniform", false,
            (solver, r) -> solver.uniform(r.targetReduction(), r.tolerance()));
    /** One bound on every group's predicted drop, bisected to the target. */
    public static final Allocator THRESHOLD = simple("threshold", true,
            (solver, r) -> solver.fromSensitivity(r.curves(), r.targetReduction(), r.tolerance()));
    /** One allowed width step at a time, where the curves predict the least drop per MAC saved. */
    public static final Allocator GREEDY = simple("greedy", true,
            (solver, r) -> solver.greedyFromSensitivity(r.curves(), r.targetReduction(), r.tolerance()));
    /** A plan made before (a prune checkpoint's plan.json), as it is. */
    public static final Allocator PLAN = simple("plan", false, (solver, r) -> solver.of(r.plan()));

    private static final Map<String, Allocator> BY_NAME = new LinkedHashMap<>();

    static {
        for (Allocator a : List.of(UNIFORM, THRESHOLD, GREEDY, PLAN)) {
            BY_NAME.put(a.name(), a);
        }
    }

    private Allocators() {
    }

    public static Allocator named(String name) {
        Allocator a = BY_NAME.get(name);
        if (a == null) {
            throw new IllegalArgumentException("unknown allocator '" + name + "'" + Suggestions.didYouMean(name,
                    BY_NAME.keySet()) + "; use one of " + String.join(", ", BY_NAME.keySet()));
        }
        return a;
    }

    /** The allocators that choose from sensitivity curves. */
    public static List<String> fromCurves() {
        return BY_NAME.values().stream().filter(Allocator::needsCurves).map(Allocator::name).toList();
    }

    private interface Allocation {
        RatioSolver.Solution allocate(RatioSolver solver, Allocator.Request request);
    }

    private static Allocator simple(String name, boolean needsCurves, Allocation allocation) {
        return new Allocator() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public boolean needsCurves() {
                return needsCurves;
            }

            @Override
            public RatioSolver.Solution allocate(RatioSolver solver, Request request) {
                if (needsCurves && (request.curves() == null || request.curves().isEmpty())) {
                    throw new IllegalArgumentException(name + " allocation needs sensitivity curves");
                }
                return allocation.allocate(solver, request);
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }
}
