package org.sparkslim.jobs.training;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.distill.FeatureLoss;
import org.sparkslim.compression.distill.FeatureLosses;
import org.sparkslim.compression.distill.SoftLabelDistillation;
import org.sparkslim.compression.distill.TeacherLogits;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.UnsupportedVertexException;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.compression.train.EpochCheckpoints;
import org.sparkslim.compression.train.EpochSummary;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingDivergedException;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.report.MarkdownTable;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.TrainingChart;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.DistillSettings;
import org.sparkslim.jobs.settings.DistributedTraining;
import org.sparkslim.jobs.settings.RecipeSettings;
import org.sparkslim.jobs.settings.TeacherSettings;
import org.sparkslim.jobs.spark.DistributedSteps;
import org.sparkslim.jobs.spark.SparkBatchSource;
import org.sparkslim.jobs.tables.FeatureTargetsTable;
import org.sparkslim.jobs.tables.HistoryTable;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.PlanFiles;
import org.sparkslim.jobs.tables.SoftLabelsTable;

/**
 * Trains a network on the prepared train split (validating on val after each epoch when configured)
 * and writes the stage's {@code model.zip}, {@code models.parquet} and {@code history.parquet}.
 * Shared by training from scratch and fine-tuning (optionally against a teacher's soft labels and
 * features).
 */
public final class ModelTraining {
    private static final Logger LOG = LoggerFactory.getLogger(ModelTraining.class);

    private ModelTraining() {
    }

    /** A trained network and its per-epoch history. */
    public record Trained(ComputationGraph net, List<EpochSummary> history) {
    }

    /** Trains a copy of {@code net} and writes it as the stage's model, with its history. */
    public static void trainAndWrite(StageContext<?> ctx, DataSettings data, RecipeSettings shared, ComputationGraph net,
                              TrainingRecipe recipe, Teaching teaching, String family, String widths) throws Exception {
        Trained trained = train(ctx, ModelCheckpoint.SINGLE, data, shared, net, recipe, teaching);
        ModelCheckpoint.writeSingle(ctx, trained.net(), family, widths, data.shape());
        writeHistory(ctx, trained.history());
    }

    /**
     * What a student learns from a teacher besides its labels: soft labels from a teacher run on each
     * batch, and maybe feature losses, or soft labels and feature targets stored beforehand (offline);
     * with the settings they came from.
     *
     * @param storedLogits a {@code soft-labels} checkpoint whose logits (and feature targets) the batches
     *                     carry, or null
     */
    public record Teaching(SoftLabelDistillation softLabels, FeatureLosses features, DistillSettings settings,
                           Path storedLogits) {
        public static final Teaching NONE = new Teaching(null, null, null, null);

        /**
         * What the {@code soft-labels} stage {@code stage} stored; with feature losses, attached to a
         * student as the teacher {@code storedBy} (loaded for its layers' shapes only) would have them.
         */
        public static Teaching offline(StageContext<?> ctx, DistillSettings settings, String stage, String storedBy)
                throws IOException {
            FeatureLosses features = null;
            if (!settings.losses().isEmpty()) {
                TeacherLogits teacher = new TeacherLogits(ModelCheckpoint.loadSingle(ctx, storedBy).net());
                try {
                    features = new FeatureLosses(teacher, settings.losses(), true);
                } catch (FeatureLosses.InvalidLossException e) {
                    throw new ConfigException(lossKey(settings, e) + ": " + e.getMessage() + " (the teacher "
                            + storedBy + ")");
                }
            }
            return new Teaching(null, features, settings, ctx.input(stage));
        }
    }

    /**
     * Soft labels from the teacher and, when the {@code distill} section names feature losses, those
     * for a student read from {@code studentStage} (empty for a student built here), from one load of
     * the teacher.
     */
    public static Teaching teaching(StageContext<?> ctx, TeacherSettings teacher, String studentStage) throws IOException {
        if (!teacher.present()) {
            return Teaching.NONE;
        }
        ComputationGraph teacherNet = ModelCheckpoint.loadSingle(ctx, teacher.teacher()).net();
        SoftLabelDistillation softLabels = softLabels(teacher, teacherNet);
        return new Teaching(softLabels, teacher.distill().hasFeatureLosses()
                ? features(ctx, teacher, teacherNet, softLabels, studentStage) : null, teacher.distill(), null);
    }

    /** Soft labels from the teacher alone (no feature losses), for training that has no single student stage. */
    public static Teaching softLabelsOnly(StageContext<?> ctx, TeacherSettings teacher) throws IOException {
        return teacher.present()
                ? new Teaching(softLabels(teacher, ModelCheckpoint.loadSingle(ctx, teacher.teacher()).net()), null,
                teacher.distill(), null)
                : Teaching.NONE;
    }

    private static SoftLabelDistillation softLabels(TeacherSettings teacher, ComputationGraph teacherNet) {
        return new SoftLabelDistillation(new TeacherLogits(teacherNet), teacher.distill().temperature(),
                teacher.distill().softLabelWeight());
    }

    /**
     * The feature losses: hints at the {@code distill.hint-layers}, then the {@code distill.l2} and
     * {@code distill.fsp} losses. When {@code studentStage} wrote a pruning plan, each hinted layer's
     * teacher activation is cut to the channels the plan kept there.
     */
    private static FeatureLosses features(StageContext<?> ctx, TeacherSettings teacher, ComputationGraph teacherNet,
                                          SoftLabelDistillation softLabels, String studentStage) throws IOException {
        List<String> hinted = teacher.distill().hintLayers();
        PruningPlan plan = hinted.isEmpty() || studentStage.isEmpty() ? null
                : PlanFiles.read(ctx.run(), ctx.input(studentStage)).orElse(null);
        ChannelGraph teacherGraph;
        try {
            teacherGraph = plan == null ? null : ChannelGraph.of(teacherNet, teacher.unsupported());
        } catch (UnsupportedVertexException e) {
            throw new ConfigException("the teacher " + teacher.teacher() + ": " + e.getMessage(), e);
        }
        List<FeatureLoss> losses = new ArrayList<>();
        for (String layer : hinted) {
            try {
                losses.add(new FeatureLoss.L2(layer, layer, plan == null ? null : plan.keptChannels(teacherGraph, layer),
                        teacher.distill().hintWeight()));
            } catch (IllegalArgumentException e) {
                throw new ConfigException("distill.hint-layers: " + e.getMessage() + " (the plan of " + studentStage
                        + ", over the teacher " + teacher.teacher() + ")");
            }
        }
        losses.addAll(teacher.distill().losses());
        try {
            return new FeatureLosses(softLabels.teacher(), losses, true);
        } catch (FeatureLosses.InvalidLossException e) {
            throw new ConfigException(lossKey(teacher.distill(), e) + ": " + e.getMessage() + " (the teacher "
                    + teacher.teacher() + ")");
        }
    }

    /** The config key of the loss an exception is about: a hinted layer, or an entry of distill.l2 or distill.fsp. */
    private static String lossKey(DistillSettings distill, FeatureLosses.InvalidLossException e) {
        int hints = distill.hintLayers().size();
        return e.index() < hints ? "distill.hint-layers" : distill.lossKeys().get(e.index() - hints);
    }

    /**
     * Trains a copy of {@code net} on the train split, learning from a teacher's soft labels and
     * features when {@code teaching} has them; {@code net} itself is not changed. {@code shared} says
     * whether to validate after each epoch and where to take the steps. The state after each epoch is
     * kept in the stage's resume area under {@code name} (one name per training of a stage), and a
     * training of the same name that a killed run left unfinished continues from it.
     */
    public static Trained train(StageContext<?> ctx, String name, DataSettings data, RecipeSettings shared,
                                ComputationGraph net, TrainingRecipe recipe, Teaching teaching) throws IOException {
        EpochCheckpoints checkpoints = new EpochCheckpointFiles(ctx.run(), new Path(ctx.resumeArea(), name));
        try {
            return trainOnce(ctx, data, shared, net, recipe, teaching, checkpoints);
        } catch (TrainingDivergedException e) {
            // nothing is committed: the stage fails, and says where it diverged
            throw new ConfigException("stage '" + ctx.stageName() + "': " + e.getMessage(), e);
        }
    }

    private static Trained trainOnce(StageContext<?> ctx, DataSettings data, RecipeSettings shared,
                                     ComputationGraph net, TrainingRecipe recipe, Teaching teaching,
                                     EpochCheckpoints checkpoints) throws IOException {
        OneDnn.enable();
        BatchAssembler assembler = data.assembler();
        String prepared = ctx.input("prepare-data").toString();
        SparkBatchSource train = new SparkBatchSource(ctx.spark().read().parquet(prepared + "/" + ImageTable.file("train")),
                assembler, recipe.batchSize(), recipe.augmentation(), true, recipe.seed(),
                ctx.stageName() + ": streaming the train split");
        SparkBatchSource val = shared.validateEachEpoch()
                ? new SparkBatchSource(ctx.spark().read().parquet(prepared + "/" + ImageTable.file("val")), assembler, 512,
                Augmentation.NONE, false, recipe.seed(), ctx.stageName() + ": scoring the val split")
                : null;
        Trainer trainer = new Trainer(recipe, assembler.numClasses());
        DistributedTraining where = shared.distributed();
        // in the executors each worker takes its own share of the epoch's steps, and the schedule counts those
        ComputationGraph trained = trainer.prepare(net, where.local() ? train.size()
                : DistributedSteps.examplesPerWorker(ctx.spark(), train.size()));
        Steps steps = new Steps(ctx, trainer, recipe, where, val, checkpoints);
        if (teaching.storedLogits() != null) {
            return new Trained(trained, trainOffline(ctx, steps, trained, train, teaching, assembler));
        }
        SoftLabelDistillation distillation = teaching.softLabels();
        if (distillation == null) {
            return new Trained(trained, steps.fit(trained, train));
        }
        steps.requireLocal("learns from a teacher run on each batch (online); store its soft labels with the "
                + "soft-labels stage and learn from them offline (distill.mode = offline)");
        LOG.info(String.format("%s: learning from the teacher's soft labels at temperature %.3g (weight %.3g)"
                        + " and from the labels (weight %.3g)", ctx.stageName(), distillation.temperature(),
                distillation.softLabelWeight(), 1 - distillation.softLabelWeight()));
        try (SoftLabelDistillation.Installed installed = distillation.installOn(trained)) {
            FeatureLosses features = teaching.features();
            if (features == null) {
                return new Trained(trained, steps.fitLocally(trained, train, distillation::targets));
            }
            LOG.info("{}: and from the teacher's features: {}", ctx.stageName(), features.losses());
            ImageShape shape = assembler.shape();
            InputType input = InputType.convolutional(shape.height(), shape.width(), shape.channels());
            FeatureLosses.Attached attached;
            try {
                attached = features.attachTo(trained, input);
            } catch (FeatureLosses.InvalidLossException e) {
                throw new ConfigException(lossKey(teaching.settings(), e) + ": " + e.getMessage() + " (the student of "
                        + "stage '" + ctx.stageName() + "')");
            }
            try (attached) {
                return new Trained(trained, steps.fitLocally(attached.network(), train, features::targets));
            }
        }
    }

    /**
     * Training on batches whose labels carry the teacher's stored logits, with the soft-label loss on
     * the student, and its stored feature targets when there are feature losses.
     */
    private static List<EpochSummary> trainOffline(StageContext<?> ctx, Steps steps, ComputationGraph student,
                                                   SparkBatchSource train, Teaching teaching, BatchAssembler assembler)
            throws IOException {
        Path table = new Path(teaching.storedLogits(), SoftLabelsTable.TABLE.file());
        Dataset<Row> stored = ctx.spark().read().parquet(table.toString());
        DistillSettings d = teaching.settings();
        FeatureLosses features = teaching.features();
        long[] widths = new long[0];
        SparkBatchSource withTargets;
        try {
            if (features == null) {
                withTargets = train.withTeacherLogits(stored, table.toString());
            } else {
                Map<String, FeatureTargetsTable.Stored> byKey = new LinkedHashMap<>();
                FeatureTargetsTable.TABLE.read(ctx.spark(), teaching.storedLogits()).forEach(t -> byKey.put(t.key(), t));
                int[] positions = new int[features.losses().size()];
                widths = new long[positions.length];
                for (int i = 0; i < positions.length; i++) {
                    String key = features.losses().get(i).teacherTarget().key();
                    FeatureTargetsTable.Stored t = byKey.get(key);
                    if (t == null) {
                        throw new ConfigException("stage '" + ctx.stageName() + "': " + teaching.storedLogits()
                                + " stores the feature targets " + byKey.keySet() + ", not " + key);
                    }
                    positions[i] = t.position();
                    widths[i] = t.width();
                }
                withTargets = train.withTeacherTargets(stored, positions, table.toString());
            }
        } catch (IllegalArgumentException e) {
            throw new ConfigException("stage '" + ctx.stageName() + "': " + e.getMessage(), e);
        }
        LOG.info(String.format("%s: learning from the teacher logits stored in %s at temperature %.3g (weight %.3g)"
                + " and from the labels (weight %.3g)", ctx.stageName(), table, d.temperature(), d.softLabelWeight(),
                1 - d.softLabelWeight()));
        try (SoftLabelDistillation.Installed installed = SoftLabelDistillation.installLoss(student, d.temperature(),
                d.softLabelWeight())) {
            if (features == null) {
                return steps.fit(student, withTargets);
            }
            steps.requireLocal("learns from stored feature targets");
            LOG.info("{}: and from the stored targets of {}", ctx.stageName(), features.losses());
            FeatureLosses.Attached attached;
            try {
                ImageShape shape = assembler.shape();
                attached = features.attachTo(student, InputType.convolutional(shape.height(), shape.width(),
                        shape.channels()));
            } catch (FeatureLosses.InvalidLossException e) {
                throw new ConfigException(lossKey(d, e) + ": " + e.getMessage() + " (the student of stage '"
                        + ctx.stageName() + "')");
            }
            long classes = assembler.numClasses();
            long[] split = widths;
            try (attached) {
                return steps.fitLocally(attached.network(), withTargets,
                        batch -> FeatureLosses.storedTargets(batch, classes, split));
            }
        }
    }

    /** How a training takes its epochs: in the driver, or in the executors when the settings say so. */
    private record Steps(StageContext<?> ctx, Trainer trainer, TrainingRecipe recipe, DistributedTraining where,
                         SparkBatchSource val, EpochCheckpoints checkpoints) {
        /** Trains {@code net} in place on the labels {@code train}'s batches carry. */
        List<EpochSummary> fit(ComputationGraph net, SparkBatchSource train) throws IOException {
            return where.local() ? trainer.fit(net, train, val, checkpoints)
                    : trainer.fit(net, where.executorSteps(ctx.spark(), train, recipe, ctx.stageName()), val,
                    checkpoints);
        }

        /** Trains {@code net} in place in the driver, on the labels {@code targets} makes of each batch. */
        List<EpochSummary> fitLocally(ComputationGraph net, SparkBatchSource train,
                                      Function<DataSet, MultiDataSet> targets) throws IOException {
            return trainer.fit(net, train, targets, val, checkpoints);
        }

        /** Fails when the steps would be taken in the executors, which cannot do what {@code what} says. */
        void requireLocal(String what) {
            if (!where.local()) {
                throw new ConfigException(where.describe() + ": stage '" + ctx.stageName() + "' " + what
                        + ", which only local training (train.distributed.mode = local) does");
            }
        }
    }

    public static void writeHistory(StageContext<?> ctx, List<EpochSummary> history) {
        HistoryTable.TABLE.write(ctx, history);
    }

    /** A training stage's report section: its history, epoch by epoch. */
    public static void reportHistory(Report report, String stage, Path checkpoint) throws IOException {
        MarkdownTable table = new MarkdownTable("epoch", "train loss", "learning rate", "images/s", "seconds",
                "val top-1 %", "val loss");
        List<EpochSummary> history = HistoryTable.TABLE.read(report.spark(), checkpoint);
        for (EpochSummary e : history) {
            table.row(e.epoch(), Report.decimal(e.trainLoss(), 4), Report.decimal(e.learningRate(), 5),
                    Report.decimal(e.imagesPerSecond(), 0), Report.decimal(e.seconds(), 1),
                    Double.isNaN(e.validationTop1()) ? "" : Report.percent(e.validationTop1()),
                    Double.isNaN(e.validationLoss()) ? "" : Report.decimal(e.validationLoss(), 4));
        }
        report.heading("Training history of `" + stage + "`").table(table).image(stage + "-training.png",
                "training curves of " + stage, TrainingChart.png("Training of " + stage, history));
    }
}
