package org.sparkslim.jobs.stages;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.compression.train.EpochSummary;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;
import org.sparkslim.jobs.spark.SparkBatchSource;
import org.sparkslim.jobs.spark.Tables;
import com.typesafe.config.Config;

/**
 * Trains a network on the prepared train split (validating on val after each epoch when configured)
 * and writes the stage's {@code model.zip}, {@code models.parquet} and {@code history.parquet}.
 * Shared by training from scratch and fine-tuning.
 */
final class ModelTraining {
    static final StructType HISTORY = new StructType()
            .add("epoch", DataTypes.IntegerType, false)
            .add("train_loss", DataTypes.DoubleType, false)
            .add("learning_rate", DataTypes.DoubleType, false)
            .add("images_per_second", DataTypes.DoubleType, false)
            .add("seconds", DataTypes.DoubleType, false)
            .add("val_top1", DataTypes.DoubleType, true)
            .add("val_loss", DataTypes.DoubleType, true);

    private ModelTraining() {
    }

    /** The recipe of the {@code train} section, with another epoch count and learning rate. */
    static TrainingRecipe recipe(Config c, long seed, int epochs, double learningRate) {
        return new TrainingRecipe(epochs, c.getInt("train.batch-size"), learningRate, c.getDouble("train.momentum"),
                c.getDouble("train.weight-decay"), new Augmentation(c.getInt("train.augmentation.padding"),
                c.getDouble("train.augmentation.flip-probability")), seed);
    }

    /** A trained network and its per-epoch history. */
    record Trained(ComputationGraph net, List<EpochSummary> history) {
    }

    static void trainAndWrite(StageContext ctx, ComputationGraph net, TrainingRecipe recipe, String family,
                              String widths) throws Exception {
        Trained trained = train(ctx, net, recipe);
        ModelCheckpoint.writeTable(ctx, List.of(ModelCheckpoint.writeModel(ctx, "model", trained.net(), family, widths,
                ImageTable.shape(ctx.config()))));
        writeHistory(ctx, trained.history());
    }

    /** Trains a copy of {@code net} on the train split; {@code net} itself is not changed. */
    static Trained train(StageContext ctx, ComputationGraph net, TrainingRecipe recipe) {
        OneDnn.enable();
        Config c = ctx.config();
        BatchAssembler assembler = ImageTable.assembler(c);
        String data = ctx.input("prepare-data").toString();
        SparkBatchSource train = new SparkBatchSource(ctx.spark().read().parquet(data + "/" + ImageTable.file("train")),
                assembler, recipe.batchSize(), recipe.augmentation(), true, recipe.seed(),
                ctx.stageName() + ": streaming the train split");
        SparkBatchSource val = c.getBoolean("train.validate-each-epoch")
                ? new SparkBatchSource(ctx.spark().read().parquet(data + "/" + ImageTable.file("val")), assembler, 512,
                Augmentation.NONE, false, recipe.seed(), ctx.stageName() + ": scoring the val split")
                : null;
        Trainer trainer = new Trainer(recipe, assembler.numClasses());
        ComputationGraph trained = trainer.prepare(net, train.size());
        return new Trained(trained, trainer.fit(trained, train, val, null));
    }

    static void writeHistory(StageContext ctx, List<EpochSummary> history) {
        List<Row> rows = new ArrayList<>();
        for (EpochSummary e : history) {
            rows.add(RowFactory.create(e.epoch(), e.trainLoss(), e.learningRate(), e.imagesPerSecond(), e.seconds(),
                    Double.isNaN(e.validationTop1()) ? null : e.validationTop1(),
                    Double.isNaN(e.validationLoss()) ? null : e.validationLoss()));
        }
        Tables.write(ctx.spark(), ctx.output("history.parquet"), HISTORY, rows);
    }
}
