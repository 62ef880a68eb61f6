package org.sparkslim.jobs.stages;

import static org.apache.spark.sql.functions.col;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.prune.ChannelGroup;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.RatioSolver;
import org.sparkslim.compression.prune.ResidualBlock;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;
import org.sparkslim.jobs.spark.Tables;

/**
 * Removes channels from the model of {@code prune.model} until its MACs drop by the target: one
 * ratio for all groups ({@code uniform}) or per-group ratios from the sensitivity curves
 * ({@code sensitivity}, which also removes whole residual blocks when the scope allows); or replays
 * the plan another prune checkpoint wrote ({@code plan}, from {@code prune.plan-from}). Writes the
 * smaller {@code model.zip}, its {@code plan.json} (replayable on the same model),
 * {@code models.parquet} and {@code ratios.parquet} (one row per group, then one per removable block).
 */
public final class PruneStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(PruneStage.class);
    public static final String PLAN = "plan.json";
    static final StructType RATIOS = new StructType()
            .add("group", DataTypes.StringType, false)
            .add("producers", DataTypes.StringType, false)
            .add("size", DataTypes.IntegerType, false)
            .add("kept", DataTypes.IntegerType, false)
            .add("ratio", DataTypes.DoubleType, false);

    @Override
    public String name() {
        return "prune";
    }

    @Override
    public String description() {
        return "remove channels to a MAC target (uniform or sensitivity-based ratios) or as a saved plan says";
    }

    @Override
    public List<String> configPaths() {
        return List.of("prune", "data.image", "data.normalization", "run.seed");
    }

    @Override
    public List<String> inputs(Config config) {
        List<String> inputs = new ArrayList<>();
        inputs.add(config.getString("prune.model"));
        if (PruningSetup.needsTrainImages(config)) {
            inputs.add("prepare-data");
        }
        switch (strategy(config)) {
            case "sensitivity" -> inputs.add("sensitivity");
            case "plan" -> inputs.add(planSource(config));
            default -> { }
        }
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of("model.zip", PLAN, "models.parquet", "ratios.parquet");
    }

    private static String strategy(Config c) {
        String s = c.getString("prune.strategy");
        if (!List.of("uniform", "sensitivity", "plan").contains(s)) {
            throw new ConfigException("prune.strategy: unknown strategy '" + s + "'; use uniform, sensitivity or plan");
        }
        return s;
    }

    /** The prune checkpoint whose plan the {@code plan} strategy replays. */
    private static String planSource(Config c) {
        String source = c.getString("prune.plan-from");
        if (source.isBlank()) {
            throw new ConfigException("prune.plan-from is empty: the plan strategy replays the " + PLAN
                    + " of a prune checkpoint; name it (a stage of this run or a path, e.g. \"runs/vgg/prune\")");
        }
        return source;
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        Config c = ctx.config();
        ModelCheckpoint.Loaded model = ModelCheckpoint.loadSingle(ctx, c.getString("prune.model"));
        ComputationGraph net = model.net();
        ImageShape shape = ImageTable.shape(c);
        String strategy = strategy(c);
        PruningSetup setup = strategy.equals("plan") ? PruningSetup.ignoringEmptyScope(net, c) : PruningSetup.of(net, c);
        RatioSolver solver = new RatioSolver(setup.builder(), PruningSetup.macs(net, shape));
        double target = c.getDouble("prune.target-macs-reduction");
        double tolerance = c.getDouble("prune.tolerance");
        ctx.describe("solving ratios (" + strategy + ")");
        if (strategy.equals("uniform") && !setup.builder().removableBlocks().isEmpty()) {
            LOG.warn("prune.scope.remove-blocks: the uniform strategy narrows channels only; no block is removed");
        }
        RatioSolver.Solution solution = switch (strategy) {
            case "uniform" -> solver.uniform(target, tolerance);
            case "sensitivity" -> fromSensitivity(c, solver, curves(ctx, model.record().sha256()), target);
            default -> replayed(ctx, solver);
        };

        ComputationGraph pruned = Pruner.apply(net, solution.plan());
        BatchAssembler assembler = ImageTable.assembler(c);
        ctx.describe("restoring the pruned model (reconstruction, batch norm recalibration)");
        PruningSetup.restore(PruningSetup.restoration(ctx, assembler, PruningSetup.RESTORATION_BATCH), net, pruned,
                solution.plan(), setup.graph());
        ModelCost before = ModelCost.of(net, shape);
        ModelCost after = ModelCost.of(pruned, shape);
        List<String> blocks = solution.plan().removedBlocks();
        String aim = strategy.equals("plan") ? "the plan of " + planSource(c)
                : String.format("target -%.2f%%", 100 * target);
        LOG.info(String.format("pruned %d groups%s: MACs %d -> %d (-%.2f%%, %s), params %d -> %d",
                solution.plan().groups().size(), blocks.isEmpty() ? "" : ", removed blocks " + blocks, before.macs(),
                after.macs(), 100 * solution.reduction(), aim, before.params(), after.params()));

        ctx.run().writeText(ctx.output(PLAN), solution.plan().toJson());
        Set<String> removed = setup.graph().branchVertices(solution.plan().removedBlocks());
        ModelCheckpoint.writeTable(ctx, List.of(ModelCheckpoint.writeModel(ctx, "model", pruned, model.record().family(),
                widthsAfter(setup, solution.plan(), removed), shape)));
        List<Row> rows = new ArrayList<>();
        for (ChannelGroup g : setup.graph().groups()) {
            int kept = keptChannels(solution.plan(), removed, g);
            rows.add(RowFactory.create(g.name(), String.join(",", g.producers()), g.size(), kept, 1 - kept / (double) g.size()));
        }
        // the blocks the scope could remove and those a replayed plan removed, whatever the scope
        List<ResidualBlock> removable = setup.builder().removableBlocks();
        for (ResidualBlock b : setup.graph().residualBlocks()) {
            boolean removedBlock = blocks.contains(b.name());
            if (removedBlock || removable.contains(b)) {
                int kept = removedBlock ? 0 : 1;
                rows.add(RowFactory.create(b.name(), String.join(",", b.convolutions()), 1, kept, 1.0 - kept));
            }
        }
        Tables.write(ctx.spark(), ctx.output("ratios.parquet"), RATIOS, rows);
    }

    /**
     * The plan of {@code prune.plan-from}, as it is: the same channels of the same groups, the same
     * blocks. Its kept channels were chosen on the model it was made for; group names and sizes are
     * checked against this one, the weights are not.
     */
    private static RatioSolver.Solution replayed(StageContext ctx, RatioSolver solver) throws IOException {
        Path file = new Path(ctx.input(planSource(ctx.config())), PLAN);
        if (!ctx.run().fileSystem().exists(file)) {
            throw new ConfigException("prune.plan-from: " + file + " does not exist; name a prune checkpoint");
        }
        try {
            PruningPlan plan = PruningPlan.fromJson(new String(ctx.run().read(file), StandardCharsets.UTF_8),
                    file.toString());
            return solver.of(plan);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("prune.plan-from: " + file + " does not fit " + ctx.config().getString(
                    "prune.model") + ": " + e.getMessage(), e);
        }
    }

    /** Per-group ratios from sensitivity curves, by the allocation {@code prune.allocation} names. */
    static RatioSolver.Solution fromSensitivity(Config c, RatioSolver solver, Map<String, List<double[]>> curves,
                                                double target) {
        double tolerance = c.getDouble("prune.tolerance");
        return switch (c.getString("prune.allocation")) {
            case "threshold" -> solver.fromSensitivity(curves, target, tolerance);
            case "greedy" -> solver.greedyFromSensitivity(curves, target, tolerance);
            default -> throw new ConfigException("prune.allocation: unknown allocation '"
                    + c.getString("prune.allocation") + "'; use threshold or greedy");
        };
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

    /** The fraction of channels a point really removed (the nominal ratio, after the scope's rounding). */
    static double removed(int size, int kept) {
        return 1 - kept / (double) size;
    }

    /** Each group's measured (removed fraction, relative top-1 drop) points for this model. */
    private static Map<String, List<double[]>> curves(StageContext ctx, String modelHash) {
        Path table = new Path(ctx.input("sensitivity"), SensitivityStage.TABLE);
        Map<String, List<double[]>> curves = new HashMap<>();
        for (Row r : Tables.read(ctx.spark(), table).where(col("model_sha256").equalTo(modelHash)
                .and(col("group").notEqual(SensitivityStage.BASELINE))).collectAsList()) {
            curves.computeIfAbsent(r.getAs("group"), g -> new ArrayList<>())
                    .add(new double[] {removed(r.<Integer>getAs("size"), r.<Integer>getAs("kept")), r.<Double>getAs("drop")});
        }
        if (curves.isEmpty()) {
            throw new ConfigException(table + " has no rows for model " + modelHash.substring(0, 12)
                    + "; run the sensitivity stage on prune.model first");
        }
        return curves;
    }
}
