package org.sparkslim.jobs.spark;

import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.SparkSession;
import org.sparkslim.compression.runtime.NativeThreads;
import org.sparkslim.compression.util.Mergeable;

/**
 * The one way SparkSlim spends executors on models (with {@link BroadcastModel}): every task first
 * sets its native (OpenMP) threads, because OpenMP's count is per calling thread and one thread per
 * task lets each core work on its own partition or candidate. Three shapes:
 * <ul>
 *   <li>{@link #rows}: data-parallel, a partition of rows in, rows out (scoring, teacher outputs);</li>
 *   <li>{@link #merged}: data-parallel, one {@link Mergeable} partial per partition, merged
 *       (histograms, error sums);</li>
 *   <li>{@link #tasks}: search-parallel, one small serializable task value per partition, one result
 *       each (sensitivity points, search candidates).</li>
 * </ul>
 */
public final class ExecutorWork {
    private ExecutorWork() {
    }

    /** A function Spark can ship to executors. */
    @FunctionalInterface
    public interface Work<T, R> extends Serializable {
        R apply(T input) throws Exception;
    }

    /** Each partition's items turned into output rows by {@code work}, lazily. */
    public static <T, R> JavaRDD<R> rows(JavaRDD<T> items, int threadsPerTask, Work<Iterator<T>, Iterator<R>> work) {
        return items.mapPartitions((FlatMapFunction<Iterator<T>, R>) partition -> {
            NativeThreads.setForCurrentThread(threadsPerTask);
            return work.apply(partition);
        });
    }

    /** One partial per partition, merged into one on the driver (no partition's items ever are). */
    public static <T, P extends Mergeable<P>> P merged(JavaRDD<T> items, int threadsPerTask,
                                                       Work<Iterator<T>, P> partial) {
        return rows(items, threadsPerTask, partition -> List.of(partial.apply(partition)).iterator())
                .reduce(Mergeable::merge);
    }

    /** Every task on its own partition, their results in the tasks' order. */
    public static <T extends Serializable, R> List<R> tasks(SparkSession spark, List<T> tasks, int threadsPerTask,
                                                            Work<T, R> work) {
        if (tasks.isEmpty()) {
            return List.of();
        }
        JavaRDD<T> distributed = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(tasks, tasks.size());
        return rows(distributed, threadsPerTask, partition -> new Iterator<R>() {
            @Override
            public boolean hasNext() {
                return partition.hasNext();
            }

            @Override
            public R next() {
                try {
                    return work.apply(partition.next());
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }).collect();
    }
}
