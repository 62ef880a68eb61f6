package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.prune.Allocator;
import org.sparkslim.compression.prune.Allocators;
import org.sparkslim.compression.prune.ChannelGroup;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.RatioSolver;
import org.sparkslim.compression.prune.ResidualBlock;
import org.sparkslim.compression.prune.SensitivityCurves;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.pruning.PruningSetup;
import org.sparkslim.jobs.report.MarkdownTable;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.settings.ChannelSelection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.PruningTarget;
import org.sparkslim.jobs.settings.RestorationSettings;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.PlanFiles;
import org.sparkslim.jobs.tables.RatiosTable;
import org.sparkslim.jobs.tables.SensitivityTable;

/**
 * Removes channels from the model of {@code prune.model} until its MACs drop by the target: one
 * ratio for all groups ({@code uniform}) or per-group ratios from the sensitivity curves
 * ({@code sensitivity}, which also removes whole residual blocks when the scope allows); or replays
 * the plan another prune checkpoint wrote ({@code plan}, from {@code prune.plan-from}) or the
 * {@code prune-search} stage found ({@code search}). Writes the
 * smaller {@code model.zip}, its {@code plan.json} (replayable on the same model),
 * {@code models.parquet} and {@code ratios.parquet} (one row per group, then one per removable block).
 */
public final class PruneStage implements Stage<PruneStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(PruneStage.class);

    /** @param planFrom the prune checkpoint whose plan the {@code plan} strategy replays (else empty) */
    public record Settings(String model, PruningTarget target, String planFrom, ChannelSelection selection,
                           RestorationSettings restoration, DataSettings data) {
    }

    @Override
    public String name() {
        return "prune";
    }

    @Override
    public String description() {
        return "remove channels to a MAC target (uniform or sensitivity-based ratios) or as a saved or searched plan says";
    }

    @Override
    public Settings settings(SettingsReader r) {
        String model = r.nonEmpty("prune.model", "name the stage whose model is pruned");
        PruningTarget target = PruningTarget.read(r);
        String planFrom = !target.replays() ? "" : target.searched() ? "prune-search"
                : r.nonEmpty("prune.plan-from", "the plan strategy replays the " + PlanFiles.PLAN + " of a prune"
                + " checkpoint; name it (a stage of this run or a path, e.g. \"runs/vgg/prune\")");
        return new Settings(model, target, planFrom, ChannelSelection.read(r), RestorationSettings.read(r),
                DataSettings.read(r));
    }

    @Override
    public List<String> inputs(Settings s) {
        List<String> inputs = new ArrayList<>();
        inputs.add(s.model());
        if (s.restoration().needsTrainImages()) {
            inputs.add("prepare-data");
        }
        if (s.target().allocator().needsCurves()) {
            inputs.add("sensitivity");
        }
        if (s.target().replays()) {
            inputs.add(s.planFrom());
        }
        return inputs;
    }

    @Override
    public List<String> outputs(Settings settings) {
        return ModelCheckpoint.singleModelOutputs(PlanFiles.PLAN, RatiosTable.TABLE.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        ModelCheckpoint.Loaded model = ModelCheckpoint.loadSingle(ctx, s.model());
        ComputationGraph net = model.net();
        ImageShape shape = s.data().shape();
        Allocator allocator = s.target().allocator();
        PruningSetup setup = s.target().replays() ? PruningSetup.ignoringEmptyScope(net, s.selection())
                : PruningSetup.of(net, s.selection());
        RatioSolver solver = new RatioSolver(setup.builder(), PruningSetup.macs(net, shape));
        ctx.describe("allocating widths (" + allocator.name() + ")");
        if (allocator == Allocators.UNIFORM && !setup.builder().removableBlocks().isEmpty()) {
            LOG.warn("prune.scope.remove-blocks: the uniform strategy narrows channels only; no block is removed");
        }
        RatioSolver.Solution solution;
        if (s.target().replays()) {
            solution = replayed(ctx, solver);
        } else {
            Allocator.Request request = s.target().request();
            solution = allocator.allocate(solver, allocator.needsCurves()
                    ? request.withCurves(curves(ctx, model.record().sha256())) : request);
        }

        ComputationGraph pruned = Pruner.apply(net, solution.plan());
        BatchAssembler assembler = s.data().assembler();
        ctx.describe("restoring the pruned model (reconstruction, batch norm recalibration)");
        PruningSetup.restore(PruningSetup.restoration(ctx, s.restoration(), assembler, PruningSetup.RESTORATION_BATCH),
                net, pruned, solution.plan(), setup.graph());
        ModelCost before = ModelCost.of(net, shape);
        ModelCost after = ModelCost.of(pruned, shape);
        List<String> blocks = solution.plan().removedBlocks();
        String aim = s.target().replays() ? "the plan of " + s.planFrom()
                : String.format("target -%.2f%%", 100 * s.target().reduction());
        LOG.info(String.format("pruned %d groups%s: MACs %d -> %d (-%.2f%%, %s), params %d -> %d",
                solution.plan().groups().size(), blocks.isEmpty() ? "" : ", removed blocks " + blocks, before.macs(),
                after.macs(), 100 * solution.reduction(), aim, before.params(), after.params()));

        PlanFiles.write(ctx, solution.plan());
        Set<String> removed = setup.graph().branchVertices(solution.plan().removedBlocks());
        ModelCheckpoint.writeSingle(ctx, pruned, model.record().family(), widthsAfter(setup, solution.plan(), removed),
                shape);
        List<RatiosTable.Ratio> rows = new ArrayList<>();
        for (ChannelGroup g : setup.graph().groups()) {
            int kept = keptChannels(solution.plan(), removed, g);
            rows.add(new RatiosTable.Ratio(g.name(), String.join(",", g.producers()), g.size(), kept,
                    1 - kept / (double) g.size()));
        }
        // the blocks the scope could remove and those a replayed plan removed, whatever the scope
        List<ResidualBlock> removable = setup.builder().removableBlocks();
        for (ResidualBlock b : setup.graph().residualBlocks()) {
            boolean removedBlock = blocks.contains(b.name());
            if (removedBlock || removable.contains(b)) {
                int kept = removedBlock ? 0 : 1;
                rows.add(new RatiosTable.Ratio(b.name(), String.join(",", b.convolutions()), 1, kept, 1.0 - kept));
            }
        }
        RatiosTable.TABLE.write(ctx, rows);
    }

    /**
     * The plan of {@code prune.plan-from}, as it is: the same channels of the same groups, the same
     * blocks. Its kept channels were chosen on the model it was made for; group names and sizes are
     * checked against this one, the weights are not.
     */
    private static RatioSolver.Solution replayed(StageContext<Settings> ctx, RatioSolver solver) throws IOException {
        Path checkpoint = ctx.input(ctx.settings().planFrom());
        Path file = new Path(checkpoint, PlanFiles.PLAN);
        try {
            PruningPlan plan = PlanFiles.read(ctx.run(), checkpoint).orElseThrow(() -> new ConfigException(
                    "prune.plan-from: " + file + " does not exist; name a prune checkpoint"));
            return Allocators.PLAN.allocate(solver, Allocator.Request.replay(plan));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("prune.plan-from: " + file + " does not fit " + ctx.settings().model() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Group -> channel count after pruning, for models.parquet. */
    private static String widthsAfter(PruningSetup setup, PruningPlan plan, Set<String> removedVertices) {
        Map<String, Integer> widths = new java.util.LinkedHashMap<>();
        for (ChannelGroup g : setup.graph().groups()) {
            widths.put(g.name(), keptChannels(plan, removedVertices, g));
        }
        return widths + (plan.removedBlocks().isEmpty() ? "" : ", blocks removed " + plan.removedBlocks());
    }

    /**
     * How many of a group's channels the plan keeps: none when every producer is among
     * {@code removedVertices} (gone with a removed block).
     */
    private static int keptChannels(PruningPlan plan, Set<String> removedVertices, ChannelGroup group) {
        PruningPlan.GroupPlan gp = plan.group(group.name());
        if (gp != null) {
            return gp.kept().length;
        }
        return removedVertices.containsAll(group.producers()) ? 0 : group.size();
    }

    /** Each group's measured (removed fraction, relative top-1 drop) points for this model. */
    private static SensitivityCurves curves(StageContext<?> ctx, String modelHash) {
        SensitivityCurves curves = new SensitivityCurves();
        for (SensitivityTable.Point p : SensitivityTable.TABLE.ofModel(ctx.spark(), ctx.input("sensitivity"), modelHash)) {
            if (!p.baseline()) {
                // the fraction really removed: the nominal ratio after the scope's rounding
                curves.add(p.group(), 1 - p.kept() / (double) p.size(), p.drop());
            }
        }
        if (curves.isEmpty()) {
            throw new ConfigException(SensitivityTable.TABLE.file() + " of the sensitivity stage has no rows for model "
                    + modelHash.substring(0, 12) + "; run the sensitivity stage on prune.model first");
        }
        return curves;
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) {
        MarkdownTable ratios = new MarkdownTable("group", "producers", "channels", "kept", "removed %");
        for (RatiosTable.Ratio r : RatiosTable.TABLE.read(report.spark(), checkpoint)) {
            ratios.row(r.group(), r.producers(), r.size(), r.kept(), Report.percent(r.ratio()));
        }
        report.heading("Pruning ratios of `" + stage + "`").table(ratios);
    }
}
