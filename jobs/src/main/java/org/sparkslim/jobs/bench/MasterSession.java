package org.sparkslim.jobs.bench;

import java.util.function.Function;
import org.apache.spark.sql.SparkSession;

/** A fresh Spark session on one master, for a benchmark that compares masters in one process. */
final class MasterSession {
    private MasterSession() {
    }

    /**
     * Seconds the work {@code prepare} returns takes on a new session of {@code master}; what
     * {@code prepare} itself does (broadcasts, a warm-up) is not timed. The session is stopped after.
     */
    static double seconds(String master, String app, Function<SparkSession, Runnable> prepare) {
        SparkSession spark = SparkSession.builder().master(master).appName(app).config("spark.ui.enabled", "false")
                .getOrCreate();
        try {
            if (!spark.sparkContext().master().equals(master)) { // getOrCreate ignores the master of a live session
                throw new IllegalStateException("cannot time Spark master " + master + ": this process already runs a "
                        + spark.sparkContext().master() + " session; run the benchmark in a process of its own");
            }
            Runnable work = prepare.apply(spark);
            long start = System.nanoTime();
            work.run();
            return (System.nanoTime() - start) / 1e9;
        } finally {
            spark.stop();
        }
    }
}
