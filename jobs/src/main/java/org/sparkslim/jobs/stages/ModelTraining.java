package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.distill.FeatureHints;
import org.sparkslim.compression.distill.SoftLabelDistillation;
import org.sparkslim.compression.distill.TeacherLogits;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.compression.train.EpochSummary;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;
import org.sparkslim.jobs.spark.SparkBatchSource;
import org.sparkslim.jobs.spark.Tables;

/**
 * Trains a network on the prepared train split (validating on val after each epoch when configured)
 * and writes the stage's {@code model.zip}, {@code models.parquet} and {@code history.parquet}.
 * Shared by training from scratch and fine-tuning (optionally against a teacher's soft labels and
 * features).
 */
final class ModelTraining {
    private static final Logger LOG = LoggerFactory.getLogger(ModelTraining.class);
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

    /**
     * The fine-tuning recipe: {@code train}'s, with {@code finetune.learning-rate} and the fine-tuning seed
     * plus {@code seedOffset} (so that the steps of a multi-step run see different batches).
     */
    static TrainingRecipe finetuneRecipe(StageContext ctx, int epochs, int seedOffset) {
        Config c = ctx.config();
        return recipe(c, finetuneSeed(ctx) + seedOffset, epochs, c.getDouble("finetune.learning-rate"));
    }

    /** The seed of fine-tuning: {@code finetune.seed}, or {@code run.seed} when that is null. */
    private static long finetuneSeed(StageContext ctx) {
        Config c = ctx.config();
        if (c.getIsNull("finetune.seed")) {
            return ctx.seed();
        }
        String fault = "finetune.seed must be a whole number or null, got " + c.getValue("finetune.seed").render();
        Number seed;
        try {
            seed = c.getNumber("finetune.seed");
        } catch (com.typesafe.config.ConfigException.WrongType e) {
            throw new ConfigException(fault, e);
        }
        if (seed.doubleValue() != Math.rint(seed.doubleValue())) {
            throw new ConfigException(fault); // getLong would quietly truncate 7.5 to 7
        }
        return seed.longValue();
    }

    /** A trained network and its per-epoch history. */
    record Trained(ComputationGraph net, List<EpochSummary> history) {
    }

    static void trainAndWrite(StageContext ctx, ComputationGraph net, TrainingRecipe recipe,
                              SoftLabelDistillation distillation, FeatureHints hints, String family, String widths)
            throws Exception {
        Trained trained = train(ctx, net, recipe, distillation, hints);
        ModelCheckpoint.writeTable(ctx, List.of(ModelCheckpoint.writeModel(ctx, "model", trained.net(), family, widths,
                ImageTable.shape(ctx.config()))));
        writeHistory(ctx, trained.history());
    }

    /** The stage named by {@code finetune.teacher}, as an input of the stages that fine-tune. */
    static List<String> teacherInput(Config c) {
        String teacher = c.getString("finetune.teacher");
        return teacher.isEmpty() ? List.of() : List.of(teacher);
    }

    /**
     * Soft-label distillation from the model of {@code finetune.teacher} with the {@code distill}
     * settings, or null when no teacher is set (fine-tuning on the labels alone).
     */
    static SoftLabelDistillation distillation(StageContext ctx) throws IOException {
        Config c = ctx.config();
        String teacher = c.getString("finetune.teacher");
        if (teacher.isEmpty()) {
            return null;
        }
        return distillation(ctx, ModelCheckpoint.loadSingle(ctx, teacher).net());
    }

    private static SoftLabelDistillation distillation(StageContext ctx, ComputationGraph teacherNet) {
        Config c = ctx.config();
        String teacher = c.getString("finetune.teacher");
        try {
            return new SoftLabelDistillation(new TeacherLogits(teacherNet), c.getDouble("distill.temperature"),
                    c.getDouble("distill.soft-label-weight"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("finetune.teacher = " + teacher + " with the distill settings: "
                    + e.getMessage());
        }
    }

    /** What a student learns from {@code finetune.teacher} besides its labels; both null without a teacher. */
    record Teaching(SoftLabelDistillation softLabels, FeatureHints hints) {
    }

    /**
     * Soft labels from {@code finetune.teacher} and, when {@code distill.hint-layers} names layers,
     * feature hints for a student read from {@code studentStage}, from one load of the teacher.
     */
    static Teaching teaching(StageContext ctx, String studentStage) throws IOException {
        Config c = ctx.config();
        String teacher = c.getString("finetune.teacher");
        List<String> layers = c.getStringList("distill.hint-layers");
        if (teacher.isEmpty()) {
            if (!layers.isEmpty()) {
                throw new ConfigException("distill.hint-layers = " + layers + " needs a teacher: set finetune.teacher");
            }
            return new Teaching(null, null);
        }
        ComputationGraph teacherNet = ModelCheckpoint.loadSingle(ctx, teacher).net();
        SoftLabelDistillation softLabels = distillation(ctx, teacherNet);
        return new Teaching(softLabels, layers.isEmpty() ? null
                : hints(ctx, softLabels, teacherNet, layers, studentStage));
    }

    /**
     * Feature hints at {@code layers}. When {@code studentStage} wrote a pruning plan, each layer's
     * teacher activation is cut to the channels the plan kept there.
     */
    private static FeatureHints hints(StageContext ctx, SoftLabelDistillation softLabels, ComputationGraph teacherNet,
                                      List<String> layers, String studentStage) throws IOException {
        Config c = ctx.config();
        Path planFile = new Path(ctx.input(studentStage), PruneStage.PLAN);
        PruningPlan plan = ctx.run().fileSystem().exists(planFile)
                ? PruningPlan.fromJson(new String(ctx.run().read(planFile), StandardCharsets.UTF_8),
                planFile.toString())
                : null;
        ChannelGraph teacherGraph = plan == null ? null : PruningSetup.channelGraph(teacherNet, c);
        Map<String, int[]> channels = new LinkedHashMap<>();
        for (String layer : layers) {
            try {
                channels.put(layer, plan == null ? null : plan.keptChannels(teacherGraph, layer));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("distill.hint-layers: " + e.getMessage() + " (the plan of " + studentStage
                        + ", over the teacher " + c.getString("finetune.teacher") + ")");
            }
        }
        double weight = c.getDouble("distill.hint-weight");
        if (!(weight > 0)) {
            throw new ConfigException("distill.hint-weight must be positive, got " + weight);
        }
        try {
            return new FeatureHints(softLabels.teacher(), channels, weight, true);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("distill.hint-layers: " + e.getMessage());
        }
    }

    /** Trains a copy of {@code net} on the train split; {@code net} itself is not changed. */
    static Trained train(StageContext ctx, ComputationGraph net, TrainingRecipe recipe) {
        return train(ctx, net, recipe, null, null);
    }

    /**
     * Trains a copy of {@code net} on the train split, learning from a teacher's soft labels when
     * {@code distillation} is not null, and its features at some layers when {@code hints} is not null
     * too; {@code net} itself is not changed.
     */
    static Trained train(StageContext ctx, ComputationGraph net, TrainingRecipe recipe,
                         SoftLabelDistillation distillation, FeatureHints hints) {
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
        if (distillation == null) {
            return new Trained(trained, trainer.fit(trained, train, val, null));
        }
        LOG.info(String.format("%s: learning from the teacher's soft labels at temperature %.3g (weight %.3g)"
                        + " and from the labels (weight %.3g)", ctx.stageName(), distillation.temperature(),
                distillation.softLabelWeight(), 1 - distillation.softLabelWeight()));
        try (SoftLabelDistillation.Installed installed = distillation.installOn(trained)) {
            if (hints == null) {
                return new Trained(trained, trainer.fit(trained, train, distillation::targets, val, null));
            }
            LOG.info(String.format("%s: and from the teacher's features at %s (weight %.3g each)", ctx.stageName(),
                    hints.layers(), hints.weight()));
            ImageShape shape = assembler.shape();
            InputType input = InputType.convolutional(shape.height(), shape.width(), shape.channels());
            FeatureHints.Attached attached;
            try {
                attached = hints.attachTo(trained, input);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("distill.hint-layers: " + e.getMessage());
            }
            try (attached) {
                return new Trained(trained, trainer.fit(attached.network(), train, hints::targets, val, null));
            }
        }
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
