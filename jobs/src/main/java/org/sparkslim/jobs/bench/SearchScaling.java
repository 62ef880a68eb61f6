package org.sparkslim.jobs.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.sparkslim.compression.model.InvertedResidualLayout;
import org.sparkslim.compression.runtime.NativeThreads;
import org.sparkslim.compression.search.ArchitectureSpace;
import org.sparkslim.jobs.spark.CandidateTraining;

/**
 * Wall time of one Light-NAS round (the same candidates, each trained and scored as a task of the
 * search trains it) run three ways: a plain loop in this JVM (one candidate after another on every
 * core, or one Java thread per core), and Spark on masters of different core counts.
 */
public final class SearchScaling {
    private SearchScaling() {
    }

    /** {@code count} layouts drawn from {@code space} with {@code seed}. */
    public static List<CandidateTraining.Task> candidates(ArchitectureSpace space, int count, long seed) {
        List<CandidateTraining.Task> tasks = new ArrayList<>();
        for (InvertedResidualLayout layout : space.sample(count, seed)) {
            tasks.add(new CandidateTraining.Task(tasks.size(), layout));
        }
        return tasks;
    }

    /** Seconds for the candidates one after another in this thread, each on {@code nativeThreads} threads. */
    public static double sequential(List<CandidateTraining.Task> tasks, CandidateTraining.Budget budget,
                                    int nativeThreads) throws Exception {
        NativeThreads.setForCurrentThread(nativeThreads);
        long start = System.nanoTime();
        for (CandidateTraining.Task t : tasks) {
            CandidateTraining.train(t, budget.train(), budget.validation(), budget.assembler(), budget.recipe());
        }
        return (System.nanoTime() - start) / 1e9;
    }

    /** Seconds for the candidates on {@code threads} Java threads of this JVM, one native thread each. */
    public static double threaded(List<CandidateTraining.Task> tasks, CandidateTraining.Budget budget, int threads)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            long start = System.nanoTime();
            List<Future<CandidateTraining.Result>> results = new ArrayList<>();
            for (CandidateTraining.Task t : tasks) {
                results.add(pool.submit(() -> {
                    NativeThreads.setForCurrentThread(1);
                    return CandidateTraining.train(t, budget.train(), budget.validation(), budget.assembler(),
                            budget.recipe());
                }));
            }
            for (Future<CandidateTraining.Result> r : results) {
                r.get();
            }
            return (System.nanoTime() - start) / 1e9;
        } finally {
            pool.shutdownNow();
        }
    }

    /** Seconds for the candidates as one search round on a fresh Spark session of {@code master}. */
    public static double spark(String master, List<CandidateTraining.Task> tasks, CandidateTraining.Budget budget) {
        return MasterSession.seconds(master, "sparkslim-search-benchmark",
                spark -> () -> CandidateTraining.run(spark, tasks, budget));
    }
}
