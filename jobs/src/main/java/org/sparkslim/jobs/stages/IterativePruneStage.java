package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.distill.SoftLabelDistillation;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.RatioSolver;
import org.sparkslim.compression.prune.Restoration;
import org.sparkslim.compression.train.EpochSummary;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;
import org.sparkslim.jobs.spark.Tables;

/**
 * Prunes in several small steps instead of one: each step measures the current model's sensitivities
 * on Spark, prunes it so that after step k its MACs are {@code (1 - target)^(k / steps)} of the
 * original's (about {@code 1 - (1 - target)^(1/steps)} per step), and fine-tunes it before the next
 * (against {@code finetune.teacher}'s soft labels when set).
 * Writes the final {@code model.zip}, {@code plans.json} (the step plans, to replay in order),
 * {@code models.parquet}, {@code steps.parquet} and {@code history.parquet}.
 */
public final class IterativePruneStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(IterativePruneStage.class);
    static final StructType STEPS = new StructType()
            .add("step", DataTypes.IntegerType, false)
            .add("target_reduction", DataTypes.DoubleType, false)
            .add("achieved_reduction", DataTypes.DoubleType, false)
            .add("macs", DataTypes.LongType, false)
            .add("val_top1", DataTypes.DoubleType, true);

    @Override
    public String name() {
        return "prune-iterative";
    }

    @Override
    public String description() {
        return "prune to a MAC target in several sensitivity + prune + fine-tune steps";
    }

    @Override
    public List<String> configPaths() {
        return List.of("prune", "prune-iterative", "sensitivity", "finetune", "distill", "train", "data.image",
                "data.num-classes", "data.normalization", "run.seed");
    }

    @Override
    public List<String> inputs(Config config) {
        List<String> inputs = new ArrayList<>(List.of("prepare-data", config.getString("prune.model")));
        inputs.addAll(ModelTraining.teacherInput(config));
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of("model.zip", "plans.json", "models.parquet", "steps.parquet", "history.parquet");
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        Config c = ctx.config();
        int steps = c.getInt("prune-iterative.steps");
        if (steps < 1) {
            throw new ConfigException("prune-iterative.steps must be at least 1, got " + steps);
        }
        double target = c.getDouble("prune.target-macs-reduction");
        ModelCheckpoint.Loaded original = ModelCheckpoint.loadSingle(ctx, c.getString("prune.model"));
        BatchAssembler assembler = ImageTable.assembler(c);
        LabeledImages val = SensitivityStage.validation(ctx, assembler);
        long originalMacs = ModelCost.of(original.net(), assembler.shape()).macs();

        ComputationGraph net = original.net();
        byte[] bytes = original.bytes();
        Restoration scoring = PruningSetup.restoration(ctx, assembler, c.getInt("sensitivity.batch-size"));
        Restoration keeping = scoring.withBatchSize(PruningSetup.RESTORATION_BATCH);
        SoftLabelDistillation distillation = ModelTraining.distillation(ctx);
        if (!c.getStringList("distill.hint-layers").isEmpty()) {
            LOG.warn("distill.hint-layers: feature hints apply to finetune; these steps learn from soft labels only");
        }
        List<String> plans = new ArrayList<>();
        List<Row> stepRows = new ArrayList<>();
        List<EpochSummary> history = new ArrayList<>();
        for (int step = 1; step <= steps; step++) {
            long current = ModelCost.of(net, assembler.shape()).macs();
            // aim at the overall schedule, so rounding in one step is made up in the next
            double remaining = Math.pow(1 - target, step / (double) steps);
            double stepTarget = 1 - remaining * originalMacs / current;
            LOG.info(String.format("step %d/%d: prune %.2f%% of the current MACs (overall target -%.2f%%)", step, steps,
                    100 * stepTarget, 100 * (1 - remaining)));
            PruningSetup setup = PruningSetup.of(net, c);
            List<SensitivityMeasurement.Point> points = SensitivityMeasurement.measure(ctx, bytes, ModelFiles.sha256(bytes),
                    setup, val, scoring, assembler, SensitivityStage.ratios(c), Map.of());
            RatioSolver.Solution solution = PruneStage.fromSensitivity(c,
                    new RatioSolver(setup.builder(), PruningSetup.macs(net, assembler.shape())),
                    SensitivityMeasurement.curves(points), stepTarget);
            plans.add(solution.plan().toJson());
            ComputationGraph pruned = Pruner.apply(net, solution.plan());
            PruningSetup.restore(keeping, net, pruned, solution.plan(), setup.graph());
            ModelTraining.Trained tuned = ModelTraining.train(ctx, pruned,
                    ModelTraining.finetuneRecipe(ctx, c.getInt("prune-iterative.epochs-per-step"), step), distillation,
                    null);
            net = tuned.net();
            bytes = ModelFiles.toBytes(net);
            long macs = ModelCost.of(net, assembler.shape()).macs();
            EpochSummary last = tuned.history().get(tuned.history().size() - 1);
            for (EpochSummary e : tuned.history()) {
                history.add(new EpochSummary(history.size() + 1, e.trainLoss(), e.learningRate(), e.imagesPerSecond(),
                        e.seconds(), e.validationTop1(), e.validationLoss()));
            }
            stepRows.add(RowFactory.create(step, 1 - remaining, 1 - macs / (double) originalMacs, macs,
                    Double.isNaN(last.validationTop1()) ? null : last.validationTop1()));
        }
        ctx.run().writeText(ctx.output("plans.json"), "[\n" + String.join(",\n", plans) + "\n]\n");
        ModelCheckpoint.writeTable(ctx, List.of(ModelCheckpoint.writeModel(ctx, "model", net, original.record().family(),
                "pruned in " + steps + " steps", assembler.shape())));
        Tables.write(ctx.spark(), ctx.output("steps.parquet"), STEPS, stepRows);
        ModelTraining.writeHistory(ctx, history);
    }
}
