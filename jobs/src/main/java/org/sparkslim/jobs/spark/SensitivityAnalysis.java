package org.sparkslim.jobs.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.runtime.NativeThreads;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.Restoration;
import org.sparkslim.compression.train.ClassificationMetrics;
import org.sparkslim.compression.train.Evaluator;
import org.sparkslim.compression.train.InMemoryBatchSource;

/**
 * Scores many pruned variants of one model in parallel: one Spark task per variant (a plan that
 * prunes one group at one ratio, or removes one residual block). The model and the validation images are broadcast once; each
 * executor thread keeps its own copy of the model and applies each task's plan to it.
 */
public final class SensitivityAnalysis {
    private SensitivityAnalysis() {
    }

    /** One evaluation: {@code plan} prunes {@code group} by {@code ratio} (the empty plan is the baseline). */
    public record Task(String group, double ratio, PruningPlan plan) implements Serializable {
    }

    public record Result(String group, double ratio, double top1, double loss, long macs) implements Serializable {
    }

    /**
     * @param restoration what is done to each pruned variant before it is scored (the baseline too, so
     *     all points are judged alike)
     */
    public static List<Result> run(SparkSession spark, byte[] model, String hash, List<Task> tasks, LabeledImages val,
                                   Restoration restoration, BatchAssembler assembler, int batchSize, int threadsPerTask) {
        if (tasks.isEmpty()) {
            return List.of();
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<byte[]> modelBytes = jsc.broadcast(model);
        Broadcast<LabeledImages> images = jsc.broadcast(val);
        Broadcast<Restoration> restore = restoration.isEmpty() ? null : jsc.broadcast(restoration);
        return jsc.parallelize(tasks, tasks.size())
                .mapPartitions(new Evaluate(modelBytes, hash, images, restore, assembler, batchSize, threadsPerTask))
                .collect();
    }

    static final class Evaluate implements FlatMapFunction<Iterator<Task>, Result> {
        private final Broadcast<byte[]> model;
        private final String hash;
        private final Broadcast<LabeledImages> val;
        private final Broadcast<Restoration> restoration;
        private final BatchAssembler assembler;
        private final int batchSize;
        private final int threads;

        Evaluate(Broadcast<byte[]> model, String hash, Broadcast<LabeledImages> val,
                 Broadcast<Restoration> restoration, BatchAssembler assembler, int batchSize, int threads) {
            this.model = model;
            this.hash = hash;
            this.val = val;
            this.restoration = restoration;
            this.assembler = assembler;
            this.batchSize = batchSize;
            this.threads = threads;
        }

        @Override
        public Iterator<Result> call(Iterator<Task> tasks) {
            // OpenMP's thread count is per calling thread: this task's forward passes use `threads` cores
            NativeThreads.setForCurrentThread(threads);
            ComputationGraph net = ExecutorModels.get(model, hash);
            ImageShape shape = assembler.shape();
            List<Result> results = new ArrayList<>();
            ChannelGraph graph = restoration == null ? null : ChannelGraph.of(net, ChannelGraph.Unsupported.SKIP);
            while (tasks.hasNext()) {
                Task t = tasks.next();
                ComputationGraph pruned = t.plan().isEmpty() ? net : Pruner.apply(net, t.plan());
                if (restoration != null) {
                    // never touch the shared cached model
                    pruned = pruned == net ? net.clone() : pruned;
                    restoration.value().apply(net, pruned, t.plan(), graph);
                }
                ClassificationMetrics m = Evaluator.evaluate(pruned,
                        InMemoryBatchSource.forEvaluation(val.value(), assembler, batchSize), assembler.numClasses());
                results.add(new Result(t.group(), t.ratio(), m.top1(), m.loss(), ModelCost.of(pruned, shape).macs()));
            }
            return results.iterator();
        }
    }
}
