package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.prune.Allocator;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.RatioSolver;
import org.sparkslim.compression.prune.Restoration;
import org.sparkslim.compression.train.EpochSummary;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.pruning.PruningSetup;
import org.sparkslim.jobs.pruning.SensitivityMeasurement;
import org.sparkslim.jobs.report.MarkdownTable;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.settings.ChannelSelection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.FineTuning;
import org.sparkslim.jobs.settings.PruningTarget;
import org.sparkslim.jobs.settings.RestorationSettings;
import org.sparkslim.jobs.settings.SensitivitySettings;
import org.sparkslim.jobs.tables.HistoryTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.PlanFiles;
import org.sparkslim.jobs.tables.StepsTable;
import org.sparkslim.jobs.training.ModelTraining;

/**
 * Prunes in several small steps instead of one: each step measures the current model's sensitivities
 * on Spark, prunes it so that after step k its MACs are {@code (1 - target)^(k / steps)} of the
 * original's (about {@code 1 - (1 - target)^(1/steps)} per step), and fine-tunes it before the next
 * (against {@code finetune.teacher}'s soft labels when set).
 * Writes the final {@code model.zip}, {@code plans.json} (the step plans, to replay in order),
 * {@code models.parquet}, {@code steps.parquet} and {@code history.parquet}.
 */
public final class IterativePruneStage implements Stage<IterativePruneStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(IterativePruneStage.class);

    public record Settings(String model, int steps, int epochsPerStep, PruningTarget target, ChannelSelection selection, RestorationSettings restoration,
                           SensitivitySettings sensitivity, FineTuning tuning, DataSettings data) {
    }

    @Override
    public String name() {
        return "prune-iterative";
    }

    @Override
    public String description() {
        return "prune to a MAC target in several sensitivity + prune + fine-tune steps";
    }

    @Override
    public Settings settings(SettingsReader r) {
        return new Settings(r.nonEmpty("prune.model", "name the stage whose model is pruned"),
                r.integer("prune-iterative.steps", Range.atLeast(1)),
                r.integer("prune-iterative.epochs-per-step", Range.atLeast(1)),
                PruningTarget.readFromCurves(r), ChannelSelection.read(r), RestorationSettings.read(r), SensitivitySettings.read(r), FineTuning.read(r),
                DataSettings.read(r));
    }

    @Override
    public List<String> inputs(Settings s) {
        List<String> inputs = new ArrayList<>(List.of("prepare-data", s.model()));
        inputs.addAll(s.tuning().teacher().inputs());
        return inputs;
    }

    @Override
    public List<String> outputs(Settings settings) {
        return ModelCheckpoint.singleModelOutputs(PlanFiles.PLAN, PlanFiles.STEPS, StepsTable.TABLE.file(),
                HistoryTable.TABLE.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        int steps = s.steps();
        double target = s.target().reduction();
        ModelCheckpoint.Loaded original = ModelCheckpoint.loadSingle(ctx, s.model());
        BatchAssembler assembler = s.data().assembler();
        LabeledImages val = SensitivityMeasurement.validationImages(ctx, assembler, s.sensitivity().maxImages());
        long originalMacs = ModelCost.of(original.net(), assembler.shape()).macs();

        ComputationGraph net = original.net();
        byte[] bytes = original.bytes();
        Restoration scoring = PruningSetup.restoration(ctx, s.restoration(), assembler, s.sensitivity().batchSize());
        Restoration keeping = scoring.withBatchSize(PruningSetup.RESTORATION_BATCH);
        ModelTraining.Teaching teaching = ModelTraining.softLabelsOnly(ctx, s.tuning().teacher());
        if (s.tuning().teacher().present() && s.tuning().teacher().distill().hasFeatureLosses()) {
            LOG.warn("distill: feature losses apply to finetune and distill; these steps learn from soft labels only");
        }
        List<String> plans = new ArrayList<>();
        PruningPlan overall = null;
        List<StepsTable.Step> stepRows = new ArrayList<>();
        List<EpochSummary> history = new ArrayList<>();
        for (int step = 1; step <= steps; step++) {
            long current = ModelCost.of(net, assembler.shape()).macs();
            // aim at the overall schedule, so rounding in one step is made up in the next
            double remaining = Math.pow(1 - target, step / (double) steps);
            double stepTarget = 1 - remaining * originalMacs / current;
            LOG.info(String.format("step %d/%d: prune %.2f%% of the current MACs (overall target -%.2f%%)", step, steps,
                    100 * stepTarget, 100 * (1 - remaining)));
            PruningSetup setup = PruningSetup.of(net, s.selection());
            RatioSolver.Solution solution;
            if (stepTarget <= 0) {
                // an earlier step overshot the schedule (discrete widths): this one only fine-tunes
                LOG.info("step {}/{}: already past the schedule; fine-tuning only", step, steps);
                solution = new RatioSolver(setup.builder(), PruningSetup.macs(net, assembler.shape()))
                        .of(PruningPlan.empty(setup.criterion().configName()));
            } else {
                List<SensitivityMeasurement.Point> points = SensitivityMeasurement.measure(ctx, bytes,
                        ModelFiles.sha256(bytes), setup, val, scoring, assembler, s.sensitivity(), Map.of());
                solution = s.target().allocator().allocate(new RatioSolver(setup.builder(),
                        PruningSetup.macs(net, assembler.shape())), Allocator.Request.target(stepTarget,
                        s.target().tolerance()).withCurves(SensitivityMeasurement.curves(points)));
            }
            plans.add(solution.plan().toJson());
            overall = overall == null ? solution.plan() : overall.then(solution.plan());
            ComputationGraph pruned = Pruner.apply(net, solution.plan());
            PruningSetup.restore(keeping, net, pruned, solution.plan(), setup.graph());
            ModelTraining.Trained tuned = ModelTraining.train(ctx, "step-" + step, s.data(),
                    s.tuning().recipe(), pruned, s.tuning().recipe(s.epochsPerStep(), step), teaching);
            net = tuned.net();
            bytes = ModelFiles.toBytes(net);
            long macs = ModelCost.of(net, assembler.shape()).macs();
            EpochSummary last = tuned.history().get(tuned.history().size() - 1);
            for (EpochSummary e : tuned.history()) {
                history.add(new EpochSummary(history.size() + 1, e.trainLoss(), e.learningRate(), e.imagesPerSecond(),
                        e.seconds(), e.validationTop1(), e.validationLoss()));
            }
            stepRows.add(new StepsTable.Step(step, 1 - remaining, 1 - macs / (double) originalMacs, macs,
                    last.validationTop1()));
        }
        ctx.run().writeText(ctx.output(PlanFiles.STEPS), "[\n" + String.join(",\n", plans) + "\n]\n");
        // the steps as one plan of the original model: replayable by prune.strategy = plan, and what
        // feature hints cut the teacher's activations to
        PlanFiles.write(ctx, overall);
        ModelCheckpoint.writeSingle(ctx, net, original.record().family(), "pruned in " + steps + " steps",
                assembler.shape());
        StepsTable.TABLE.write(ctx, stepRows);
        ModelTraining.writeHistory(ctx, history);
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) throws IOException {
        MarkdownTable steps = new MarkdownTable("step", "scheduled MAC reduction %", "achieved %", "MACs", "val top-1 %");
        for (StepsTable.Step st : StepsTable.TABLE.read(report.spark(), checkpoint)) {
            steps.row(st.step(), Report.percent(st.targetReduction()), Report.percent(st.achievedReduction()), st.macs(),
                    Double.isNaN(st.valTop1()) ? "" : Report.percent(st.valTop1()));
        }
        report.heading("Steps of `" + stage + "`").table(steps);
        ModelTraining.reportHistory(report, stage, checkpoint);
    }
}
