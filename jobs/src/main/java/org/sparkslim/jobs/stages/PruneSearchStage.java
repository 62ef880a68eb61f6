package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.RatioSolver;
import org.sparkslim.compression.search.Constraint;
import org.sparkslim.compression.search.PruningSpace;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.pruning.LatencyBudget;
import org.sparkslim.jobs.pruning.PruningSearch;
import org.sparkslim.jobs.pruning.PruningSetup;
import org.sparkslim.jobs.pruning.SensitivityMeasurement;
import org.sparkslim.jobs.report.MarkdownTable;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.report.SearchCharts;
import org.sparkslim.jobs.search.AnnealingRounds;
import org.sparkslim.jobs.settings.ChannelSelection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.LatencyLimit;
import org.sparkslim.jobs.settings.PruneSearchSettings;
import org.sparkslim.jobs.settings.RecipeSettings;
import org.sparkslim.jobs.settings.RestorationSettings;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.SensitivityAnalysis;
import org.sparkslim.jobs.spark.ValidationImages;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.PlanFiles;
import org.sparkslim.jobs.tables.SearchTrialsTable.Trial;
import org.sparkslim.jobs.tables.SearchTrialsTable;

/**
 * Automatic pruning: simulated annealing over the widths of the groups in {@code prune.scope}, every
 * candidate within {@code prune.target-macs-reduction} +- {@code prune.tolerance}, rewarded by the val
 * top-1 of the pruned and restored model. It starts from the widths of {@code prune-search.start-from}'s
 * plan, or else from the uniform plan when that lands in the window, so its best plan is never worse on
 * val than the plan it starts from. Writes the best plan as
 * {@code plan.json}, which {@code prune.strategy = search} replays, and {@code trials.parquet}.
 */
public final class PruneSearchStage implements Stage<PruneSearchStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(PruneSearchStage.class);

    /**
     * @param target the fraction of MACs to remove, within {@code tolerance}
     * @param recipe the train recipe's shared settings, read only when candidates are retrained (else null)
     */
    public record Settings(String model, double target, double tolerance, PruneSearchSettings search,
                           ChannelSelection selection, RestorationSettings restoration, RecipeSettings recipe,
                           DataSettings data, long seed) {
    }

    @Override
    public String name() {
        return "prune-search";
    }

    @Override
    public String description() {
        return "choose per-group widths to a MAC target by simulated annealing, candidates scored in parallel";
    }

    @Override
    public Settings settings(SettingsReader r) {
        String model = r.nonEmpty("prune.model", "name the stage whose model is pruned");
        double target = r.number("prune.target-macs-reduction", Range.OPEN_FRACTION);
        double tolerance = r.number("prune.tolerance", Range.OPEN_FRACTION);
        PruneSearchSettings search = PruneSearchSettings.read(r);
        return new Settings(model, target, tolerance, search, ChannelSelection.read(r), RestorationSettings.read(r),
                search.retrain().enabled() ? RecipeSettings.read(r) : null, DataSettings.read(r), r.whole("run.seed"));
    }

    @Override
    public List<String> inputs(Settings s) {
        List<String> inputs = new ArrayList<>(List.of("prepare-data", s.model()));
        if (s.search().latency() != null && !s.search().latency().table().isEmpty()) {
            inputs.add(s.search().latency().table());
        }
        if (!s.search().startFrom().isEmpty()) {
            inputs.add(s.search().startFrom());
        }
        return inputs;
    }

    @Override
    public List<String> outputs(Settings settings) {
        return List.of(PlanFiles.PLAN, SearchTrialsTable.TABLE.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        ModelCheckpoint.Loaded model = ModelCheckpoint.loadSingle(ctx, s.model());
        ComputationGraph net = model.net();
        PruningSetup setup = PruningSetup.of(net, s.selection());
        PruningSpace space = new PruningSpace(setup.builder());
        ToLongFunction<PruningPlan> macs = PruningSetup.macs(net, s.data().shape());
        double target = s.target();
        double tolerance = s.tolerance();
        long baseMacs = macs.applyAsLong(PruningPlan.empty("none"));
        LatencyBudget latency = s.search().latency() == null ? null : latencyBudget(ctx, net, space);
        Constraint constraint = latency == null ? space.macReductionWithin(macs, target, tolerance) : latency.constraint();
        Start start = s.search().startFrom().isEmpty()
                ? uniformStart(new RatioSolver(setup.builder(), macs).uniform(target, tolerance), space, constraint)
                : savedStart(ctx, space, constraint, macs, baseMacs);
        LOG.info(String.format("searching widths of %d groups (%,d combinations) under: %s; from %s", space.groups().size(),
                space.tokens().size(), constraint.description(), start.description()));
        PruningSearch.Problem problem = new PruningSearch.Problem(space, constraint, start.tokens(), baseMacs, latency);

        BatchAssembler assembler = s.data().assembler();
        PruneSearchSettings search = s.search();
        SensitivityAnalysis.Scoring scoring = new SensitivityAnalysis.Scoring(
                SensitivityMeasurement.validationImages(ctx, assembler, search.maxImages()),
                PruningSetup.restoration(ctx, s.restoration(), assembler, search.batchSize()), retraining(ctx),
                assembler, search.batchSize(), search.threadsPerTask(), search.engine());
        List<Trial> trials = PruningSearch.run(ctx, problem, search,
                BroadcastModel.of(ctx.spark(), model.bytes(), model.record().sha256()), scoring);

        Trial best = AnnealingRounds.best(trials);
        LOG.info(String.format("best of %d candidates: val top-1 %.2f%% at -%.2f%% MACs (round %d): %s", trials.size(),
                100 * best.top1(), 100 * best.reduction(), best.round(), best.architecture()));
        PlanFiles.write(ctx, space.plan(best.tokens()));
        SearchTrialsTable.TABLE.write(ctx, trials);
    }

    /** Where the annealing starts: tokens (null: random ones that meet the constraint), for the log. */
    private record Start(int[] tokens, String description) {
    }

    /** The uniform plan, when it meets the constraint: the search's best is then never worse on val. */
    private static Start uniformStart(RatioSolver.Solution uniform, PruningSpace space, Constraint constraint) {
        int[] tokens = space.tokensOf(uniform.plan());
        return constraint.allows(tokens)
                ? new Start(tokens, String.format("the uniform plan (-%.2f%% MACs)", 100 * uniform.reduction()))
                : new Start(null, String.format("random widths that meet it (the uniform plan, -%.2f%% MACs, does not)",
                100 * uniform.reduction()));
    }

    /**
     * The widths of {@code prune-search.start-from}'s plan (say, a sensitivity-based one), which must
     * meet the constraint: the search's best is then never worse on val than that plan's widths.
     */
    private static Start savedStart(StageContext<Settings> ctx, PruningSpace space, Constraint constraint,
                                    ToLongFunction<PruningPlan> macs, long baseMacs) throws IOException {
        Path file = new Path(ctx.input(ctx.settings().search().startFrom()), PlanFiles.PLAN);
        PruningPlan plan = PlanFiles.read(ctx.run(), file.getParent()).orElseThrow(() -> new ConfigException(
                "prune-search.start-from: " + file + " does not exist; name a prune checkpoint"));
        int[] tokens;
        try {
            tokens = space.tokensOf(plan);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("prune-search.start-from: " + file + " does not fit the search: " + e.getMessage(), e);
        }
        double reduction = 1 - macs.applyAsLong(space.plan(tokens)) / (double) baseMacs;
        if (!constraint.allows(tokens)) {
            throw new ConfigException(String.format("prune-search.start-from: the plan of %s (-%.2f%% MACs) does not meet"
                    + " the search's constraint (%s)", file, 100 * reduction, constraint.description()));
        }
        return new Start(tokens, String.format("the widths of %s (-%.2f%% MACs)", file, 100 * reduction));
    }

    /** Each candidate's short training before it is scored, or null when it is scored as pruned. */
    private static SensitivityAnalysis.Retraining retraining(StageContext<Settings> ctx) {
        Settings s = ctx.settings();
        PruneSearchSettings.Retrain retrain = s.search().retrain();
        if (!retrain.enabled()) {
            return null;
        }
        ctx.describe("collecting the candidates' retraining images");
        LabeledImages images = ValidationImages.firstN(ctx.spark(), ctx.input("prepare-data") + "/"
                + ImageTable.file("train"), s.data().shape(), retrain.images());
        LOG.info("each candidate trains {} epoch(s) on {} train images from learning rate {} before it is scored",
                retrain.epochs(), images.size(), retrain.learningRate());
        return new SensitivityAnalysis.Retraining(images,
                s.recipe().recipe(retrain.epochs(), retrain.learningRate(), s.seed()));
    }

    /**
     * The latency budget of a latency-constrained search, its table seeded from the last saved round
     * (a resumed search) or from {@code prune-search.latency-table}'s checkpoint.
     */
    private static LatencyBudget latencyBudget(StageContext<Settings> ctx, ComputationGraph net, PruningSpace space)
            throws Exception {
        Settings s = ctx.settings();
        LatencyLimit limit = s.search().latency();
        ctx.describe("estimating the unpruned model's latency from the latency table");
        LatencyBudget budget = new LatencyBudget(net, space, AnnealingRounds.latencyEstimator(ctx, limit, s.data().shape()),
                limit);
        LOG.info(String.format("the unpruned model: %.3f ms estimated at batch %d; the limit %.3f ms (%d table entries)",
                budget.denseMillis(), limit.batch(), budget.limitMillis(), budget.table().entries().size()));
        return budget;
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) throws IOException {
        List<Trial> trials = SearchTrialsTable.TABLE.read(report.spark(), checkpoint);
        Trial best = AnnealingRounds.best(trials);
        Trial first = trials.stream().filter(t -> t.round() == 1 && t.candidate() == 0).findFirst().orElseThrow();
        MarkdownTable table = new MarkdownTable("candidate", "round", "MACs removed %", "val top-1 %", "latency ms",
                "widths");
        table.row("start (round 1, first candidate)", first.round(), Report.percent(first.reduction()),
                Report.percent(first.top1()), Report.decimal(first.latencyMs(), 3), first.architecture());
        table.row("best of " + trials.size(), best.round(), Report.percent(best.reduction()), Report.percent(best.top1()),
                Report.decimal(best.latencyMs(), 3), best.architecture());
        report.heading("Pruning search (`" + stage + "`)").table(table)
                .image(stage + "-trajectory.png", "search trajectory", SearchCharts.trajectory(trials))
                .image(stage + "-candidates.png", "every candidate", SearchCharts.front(trials));
    }
}
