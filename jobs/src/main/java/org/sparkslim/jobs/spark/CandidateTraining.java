package org.sparkslim.jobs.spark;

import java.io.IOException;
import java.io.Serializable;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.InvertedResidualLayout;
import org.sparkslim.compression.model.MobileNetV2;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.compression.train.ClassificationMetrics;
import org.sparkslim.compression.train.EpochCheckpoints;
import org.sparkslim.compression.train.Evaluator;
import org.sparkslim.compression.train.InMemoryBatchSource;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;

/**
 * Trains many candidate architectures at once, one Spark task each: the training and validation
 * images are broadcast once, and every task builds its candidate (weights drawn from the recipe's
 * seed), trains it for the recipe's short budget on its own core and scores it on val.
 */
public final class CandidateTraining {
    private CandidateTraining() {
    }

    public record Task(int candidate, InvertedResidualLayout layout) implements Serializable {
    }

    public record Result(int candidate, double top1, double loss, double seconds) implements Serializable {
    }

    /** What every candidate learns from and how: images, their assembly, the recipe, native threads per task. */
    public record Budget(LabeledImages train, LabeledImages validation, BatchAssembler assembler, TrainingRecipe recipe,
                         int threadsPerTask) {
    }

    /** The tasks' results, in their order. */
    public static List<Result> run(SparkSession spark, List<Task> tasks, Budget budget) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<LabeledImages> train = jsc.broadcast(budget.train());
        Broadcast<LabeledImages> validation = jsc.broadcast(budget.validation());
        BatchAssembler assembler = budget.assembler();
        TrainingRecipe recipe = budget.recipe();
        try {
            return ExecutorWork.tasks(spark, tasks, budget.threadsPerTask(),
                    t -> train(t, train.value(), validation.value(), assembler, recipe));
        } finally {
            train.destroy();
            validation.destroy();
        }
    }

    /** One candidate built, trained and scored in the calling thread (a task's work, or a plain loop's). */
    public static Result train(Task t, LabeledImages train, LabeledImages validation, BatchAssembler assembler,
                               TrainingRecipe recipe) throws IOException {
        OneDnn.enable();
        long start = System.nanoTime();
        MobileNetV2 family = new MobileNetV2(t.layout());
        ComputationGraph net = family.build(family.spec(family.baseWidths(), assembler.shape(), assembler.numClasses(),
                recipe.seed()));
        ComputationGraph trained = shortTraining(net, train, assembler, recipe);
        ClassificationMetrics m = Evaluator.evaluate(trained,
                InMemoryBatchSource.forEvaluation(validation, assembler, recipe.batchSize()), assembler.numClasses());
        return new Result(t.candidate(), m.top1(), m.loss(), (System.nanoTime() - start) / 1e9);
    }

    /** A trained copy of {@code net}: the recipe on {@code train}, in the calling thread, no validation. */
    public static ComputationGraph shortTraining(ComputationGraph net, LabeledImages train, BatchAssembler assembler,
                                                 TrainingRecipe recipe) throws IOException {
        Trainer trainer = new Trainer(recipe, assembler.numClasses());
        ComputationGraph trained = trainer.prepare(net, train.size());
        trainer.fit(trained, new InMemoryBatchSource(train, assembler, recipe.batchSize(), recipe.augmentation(), true,
                recipe.seed()), null, EpochCheckpoints.NONE);
        return trained;
    }
}
