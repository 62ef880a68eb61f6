package org.sparkslim.jobs.spark;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.Restoration;
import org.sparkslim.compression.train.ClassificationMetrics;
import org.sparkslim.compression.train.TrainingRecipe;

/**
 * Scores many pruned variants of one model in parallel: one Spark task per variant (a plan that
 * prunes one group at one ratio, or removes one residual block). The model and the validation images
 * are broadcast once; each executor thread applies each task's plan to its own copy of the model and
 * scores the variant in the configured engine (in ONNX Runtime, through the variant's own export).
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
     * How variants are scored: on which images, restored how, retrained how (null: not at all), in
     * batches of what size.
     */
    public record Scoring(LabeledImages images, Restoration restoration, Retraining retraining,
                          BatchAssembler assembler, int batchSize, int threadsPerTask, ScoringEngine engine) {
        /** Scoring without retraining. */
        public Scoring(LabeledImages images, Restoration restoration, BatchAssembler assembler, int batchSize,
                       int threadsPerTask, ScoringEngine engine) {
            this(images, restoration, null, assembler, batchSize, threadsPerTask, engine);
        }
    }

    /** A short training of each restored variant before it is scored: these images, this recipe. */
    public record Retraining(LabeledImages images, TrainingRecipe recipe) {
    }

    /**
     * @param scoring its restoration is applied to every pruned variant before it is scored (the
     *     baseline too, so all points are judged alike)
     */
    public static List<Result> run(SparkSession spark, BroadcastModel model, List<Task> tasks, Scoring scoring) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<LabeledImages> images = jsc.broadcast(scoring.images());
        Broadcast<Restoration> restoration = scoring.restoration().isEmpty() ? null : jsc.broadcast(scoring.restoration());
        // the images go once per executor; the task closure carries the recipe alone
        Broadcast<LabeledImages> retrainImages = scoring.retraining() == null ? null
                : jsc.broadcast(scoring.retraining().images());
        TrainingRecipe retrainRecipe = scoring.retraining() == null ? null : scoring.retraining().recipe();
        BatchAssembler assembler = scoring.assembler();
        int batchSize = scoring.batchSize();
        ScoringEngine engine = scoring.engine();
        int threads = scoring.threadsPerTask();
        try {
            return ExecutorWork.tasks(spark, tasks, scoring.threadsPerTask(), t -> {
                ComputationGraph net = model.local();
                ComputationGraph pruned = t.plan().isEmpty() ? net : Pruner.apply(net, t.plan());
                if (restoration != null) {
                    // never touch the shared cached model
                    pruned = pruned == net ? net.clone() : pruned;
                    restoration.value().apply(net, pruned, t.plan(),
                            ChannelGraph.of(net, ChannelGraph.Unsupported.SKIP));
                }
                if (retrainImages != null) {
                    pruned = CandidateTraining.shortTraining(pruned, retrainImages.value(), assembler, retrainRecipe);
                }
                ClassificationMetrics m;
                try (Scorer scorer = Scorer.open(pruned, engine, assembler.shape(), threads)) {
                    m = scorer.evaluate(images.value(), assembler, batchSize);
                }
                return new Result(t.group(), t.ratio(), m.top1(), m.loss(),
                        ModelCost.of(pruned, assembler.shape()).macs());
            });
        } finally {
            // one round's images, not kept for the next (a search broadcasts them every round)
            images.destroy();
            if (restoration != null) {
                restoration.destroy();
            }
            if (retrainImages != null) {
                retrainImages.destroy();
            }
        }
    }
}
