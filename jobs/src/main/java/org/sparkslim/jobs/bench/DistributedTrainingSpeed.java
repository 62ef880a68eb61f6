package org.sparkslim.jobs.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.train.BatchSource;
import org.sparkslim.compression.train.EpochCheckpoints;
import org.sparkslim.compression.train.EpochSummary;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.settings.DistributedTraining;
import org.sparkslim.jobs.spark.DistributedSteps;
import org.sparkslim.jobs.spark.SparkBatchSource;

/**
 * The same training (one model, one recipe, the same images) taken in the driver and in the
 * executors (parameter averaging, gradient sharing): images per second and validation top-1 of each, in one run.
 * The local training runs first and again last, so that a drift of the machine's speed shows.
 */
public final class DistributedTrainingSpeed {
    private DistributedTrainingSpeed() {
    }

    /** One way of training: its name, its speed over all epochs and its validation top-1 after the last. */
    public record Result(String name, double imagesPerSecond, double validationTop1) {
    }

    /**
     * Trains copies of {@code net} on {@code train} locally, with each of {@code distributed}, and
     * locally again, and scores each on {@code validation}.
     */
    public static List<Result> measure(SparkSession spark, ComputationGraph net, Dataset<Row> train,
                                       BatchAssembler assembler, TrainingRecipe recipe, BatchSource validation,
                                       List<DistributedTraining> distributed) throws IOException {
        SparkBatchSource source = new SparkBatchSource(train, assembler, recipe.batchSize(), recipe.augmentation(), true,
                recipe.seed(), "benchmark: streaming the train split");
        Trainer trainer = new Trainer(recipe, assembler.numClasses());
        byte[] bytes = ModelFiles.toBytes(net);
        List<Result> results = new ArrayList<>();
        results.add(local(trainer, bytes, source, validation));
        for (DistributedTraining d : distributed) {
            String name = d.mode() == DistributedTraining.Mode.PARAMETER_AVERAGING
                    ? "parameter averaging every " + d.averagingFrequency() : d.mode().title();
            ComputationGraph copy = trainer.prepare(ModelFiles.fromBytes(bytes, name),
                    DistributedSteps.examplesPerWorker(spark, source.size()));
            results.add(result(name, trainer.fit(copy, d.executorSteps(spark, source, recipe, "benchmark"), validation,
                    EpochCheckpoints.NONE)));
        }
        results.add(local(trainer, bytes, source, validation));
        return results;
    }

    private static Result local(Trainer trainer, byte[] bytes, BatchSource source, BatchSource validation)
            throws IOException {
        ComputationGraph net = trainer.prepare(ModelFiles.fromBytes(bytes, "local"), source.size());
        return result("local (driver)", trainer.fit(net, source, validation, EpochCheckpoints.NONE));
    }

    private static Result result(String name, List<EpochSummary> history) {
        double images = 0;
        double seconds = 0;
        for (EpochSummary e : history) {
            images += e.imagesPerSecond() * e.seconds();
            seconds += e.seconds();
        }
        return new Result(name, images / seconds, history.get(history.size() - 1).validationTop1());
    }
}
