package org.sparkslim.jobs.spark;

import java.io.Serializable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.PartitionPruningRDD;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;

/**
 * Partitions {@code [from, to)} of an RDD alone, computed without the others: how a training in the
 * executors takes one round or one step of an epoch whose batches are laid out a partition each.
 */
final class PartitionRange extends AbstractFunction1<Object, Object> implements Serializable {
    private final int from;
    private final int to;

    private PartitionRange(int from, int to) {
        this.from = from;
        this.to = to;
    }

    static <T> JavaRDD<T> of(JavaRDD<T> rdd, int from, int to, Class<T> type) {
        return JavaRDD.fromRDD(PartitionPruningRDD.create(rdd.rdd(), new PartitionRange(from, to)),
                ClassTag$.MODULE$.apply(type));
    }

    @Override
    public Object apply(Object partition) {
        int index = (Integer) partition;
        return index >= from && index < to;
    }
}
