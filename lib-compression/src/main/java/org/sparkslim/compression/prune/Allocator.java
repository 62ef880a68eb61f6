package org.sparkslim.compression.prune;

/**
 * Chooses how many channels each group keeps (and which residual blocks go): one way of pruning to a
 * target, chosen by name ({@link Allocators}). A new allocator is one class and one registration.
 */
public interface Allocator {
    /** What an allocator may use: the MAC target, sensitivity curves, a plan to replay. */
    record Request(double targetReduction, double tolerance, SensitivityCurves curves, PruningPlan plan) {
        public static Request target(double targetReduction, double tolerance) {
            return new Request(targetReduction, tolerance, null, null);
        }

        public Request withCurves(SensitivityCurves sensitivity) {
            return new Request(targetReduction, tolerance, sensitivity, plan);
        }

        public static Request replay(PruningPlan plan) {
            return new Request(Double.NaN, Double.NaN, null, plan);
        }
    }

    /** The name a config chooses it by. */
    String name();

    /** Whether it reads sensitivity curves (the pipeline then measures them first). */
    default boolean needsCurves() {
        return false;
    }

    RatioSolver.Solution allocate(RatioSolver solver, Request request);
}
