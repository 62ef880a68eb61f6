package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.WidthVector;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.compression.train.EpochSummary;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;
import org.sparkslim.jobs.spark.ModelRecord;
import org.sparkslim.jobs.spark.SparkBatchSource;
import org.sparkslim.jobs.spark.Tables;

/**
 * Trains a zoo model from scratch (a baseline, or a teacher for later stages) with the benchmark
 * recipe, streaming the training split from Parquet. Writes {@code model.zip}, {@code models.parquet}
 * and {@code history.parquet} (one row per epoch).
 */
public final class TrainStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(TrainStage.class);
    static final StructType HISTORY = new StructType()
            .add("epoch", DataTypes.IntegerType, false)
            .add("train_loss", DataTypes.DoubleType, false)
            .add("learning_rate", DataTypes.DoubleType, false)
            .add("images_per_second", DataTypes.DoubleType, false)
            .add("seconds", DataTypes.DoubleType, false)
            .add("val_top1", DataTypes.DoubleType, true)
            .add("val_loss", DataTypes.DoubleType, true);

    @Override
    public String name() {
        return "train";
    }

    @Override
    public String description() {
        return "train a zoo model from scratch on the train split (SGD, Nesterov, cosine)";
    }

    @Override
    public List<String> configPaths() {
        return List.of("data.image", "data.num-classes", "data.normalization", "model", "train", "run.seed");
    }

    @Override
    public List<String> inputs(Config config) {
        return List.of("prepare-data");
    }

    @Override
    public List<String> outputs() {
        return List.of("model.zip", "models.parquet", "history.parquet");
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        OneDnn.enable();
        Config c = ctx.config();
        ModelFamily family = ModelBuilding.family(c);
        WidthVector widths = ModelBuilding.widths(c, family);
        BatchAssembler assembler = ImageTable.assembler(c);
        TrainingRecipe recipe = recipe(c, ctx.seed());

        ComputationGraph net = family.build(family.spec(widths, assembler.shape(), assembler.numClasses(), ctx.seed()));
        ModelCost cost = ModelCost.of(net, assembler.shape());
        LOG.info("{} {}: {} MACs, {} params", family.name(), widths, cost.macs(), cost.params());

        String data = ctx.input("prepare-data").toString();
        SparkBatchSource train = new SparkBatchSource(ctx.spark().read().parquet(data + "/" + ImageTable.file("train")),
                assembler, recipe.batchSize(), recipe.augmentation(), true, ctx.seed(), "train: streaming the train split");
        SparkBatchSource val = c.getBoolean("train.validate-each-epoch")
                ? new SparkBatchSource(ctx.spark().read().parquet(data + "/" + ImageTable.file("val")), assembler, 512,
                Augmentation.NONE, false, ctx.seed(), "train: scoring the val split")
                : null;

        Trainer trainer = new Trainer(recipe, assembler.numClasses());
        net = trainer.prepare(net, train.size());
        List<EpochSummary> history = trainer.fit(net, train, val, null);

        ModelRecord model = ModelCheckpoint.writeModel(ctx, "model", net, family.name(), widths.toString(),
                assembler.shape());
        ModelCheckpoint.writeTable(ctx, List.of(model));
        List<Row> rows = new ArrayList<>();
        for (EpochSummary e : history) {
            rows.add(RowFactory.create(e.epoch(), e.trainLoss(), e.learningRate(), e.imagesPerSecond(), e.seconds(),
                    Double.isNaN(e.validationTop1()) ? null : e.validationTop1(),
                    Double.isNaN(e.validationLoss()) ? null : e.validationLoss()));
        }
        Tables.write(ctx.spark(), ctx.output("history.parquet"), HISTORY, rows);
    }

    static TrainingRecipe recipe(Config c, long seed) {
        return new TrainingRecipe(c.getInt("train.epochs"), c.getInt("train.batch-size"),
                c.getDouble("train.learning-rate"), c.getDouble("train.momentum"), c.getDouble("train.weight-decay"),
                new Augmentation(c.getInt("train.augmentation.padding"),
                        c.getDouble("train.augmentation.flip-probability")), seed);
    }
}
