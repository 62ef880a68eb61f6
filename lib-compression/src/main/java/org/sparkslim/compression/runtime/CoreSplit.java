package org.sparkslim.compression.runtime;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/** Splits a range of independent work items (channels, rows) over the cores, a few items per task. */
final class CoreSplit {
    interface Range {
        void apply(int from, int to);
    }

    private CoreSplit() {
    }

    /** Runs {@code work} over {@code [0, count)} in pieces of at most {@code grain} items. */
    static void run(int count, int grain, Range work) {
        if (count <= grain) {
            work.apply(0, count);
            return;
        }
        ForkJoinPool.commonPool().invoke(new Split(0, count, grain, work));
    }

    private static final class Split extends RecursiveAction {
        private final int from;
        private final int to;
        private final int grain;
        private final Range work;

        Split(int from, int to, int grain, Range work) {
            this.from = from;
            this.to = to;
            this.grain = grain;
            this.work = work;
        }

        @Override
        protected void compute() {
            if (to - from <= grain) {
                work.apply(from, to);
                return;
            }
            int middle = (from + to) >>> 1;
            invokeAll(new Split(from, middle, grain, work), new Split(middle, to, grain, work));
        }
    }
}
