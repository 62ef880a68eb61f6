package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.InvertedResidualLayout;
import org.sparkslim.compression.search.ArchitectureSpace;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.report.MarkdownTable;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.report.SearchCharts;
import org.sparkslim.jobs.search.AnnealingRounds;
import org.sparkslim.jobs.search.ArchitectureCosts;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.LatencyLimit;
import org.sparkslim.jobs.settings.NasSettings;
import org.sparkslim.jobs.settings.RecipeSettings;
import org.sparkslim.jobs.spark.CandidateTraining;
import org.sparkslim.jobs.spark.ValidationImages;
import org.sparkslim.jobs.tables.ArchitectureFiles;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.LatencyTables;
import org.sparkslim.jobs.tables.SearchTrialsTable.Trial;
import org.sparkslim.jobs.tables.SearchTrialsTable;

/**
 * Light-NAS: simulated annealing over MobileNetV2-like layouts ({@code nas.stages}), every candidate
 * within a fraction of the zoo {@code mobilenetv2}'s MACs or estimated latency, trained briefly in its
 * own Spark task and rewarded by val top-1 (and latency, as {@code nas.latency-weight} says). It starts
 * from the zoo's layout when that is in the space and meets the limit. Writes the best layout as
 * {@code architecture.json}, which a training stage builds ({@code model.architecture}),
 * {@code trials.parquet} and, under a latency limit, the latency table its estimates came from.
 */
public final class NasStage implements Stage<NasStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(NasStage.class);

    public record Settings(NasSettings nas, RecipeSettings recipe, DataSettings data, long seed) {
    }

    @Override
    public String name() {
        return "nas";
    }

    @Override
    public String description() {
        return "search MobileNetV2-like layouts under a MAC or latency limit, candidates trained in parallel";
    }

    @Override
    public Settings settings(SettingsReader r) {
        return new Settings(NasSettings.read(r), RecipeSettings.read(r), DataSettings.read(r), r.whole("run.seed"));
    }

    @Override
    public List<String> inputs(Settings s) {
        List<String> inputs = new ArrayList<>(List.of("prepare-data"));
        if (s.nas().latency() != null && !s.nas().latency().table().isEmpty()) {
            inputs.add(s.nas().latency().table());
        }
        return inputs;
    }

    @Override
    public List<String> outputs(Settings s) {
        List<String> outputs = new ArrayList<>(List.of(ArchitectureFiles.ARCHITECTURE, SearchTrialsTable.TABLE.file()));
        if (s.nas().latency() != null) {
            outputs.add(LatencyTables.UNITS.file());
        }
        return outputs;
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        NasSettings nas = s.nas();
        ArchitectureSpace space = nas.space();
        BatchAssembler assembler = s.data().assembler();
        LatencyLimit limit = nas.latency();
        ArchitectureCosts costs = new ArchitectureCosts(space, s.data().shape(), s.data().numClasses(),
                limit == null ? null : AnnealingRounds.latencyEstimator(ctx, limit, s.data().shape()));
        ArchitectureCosts.Cost reference = costs.of(InvertedResidualLayout.MOBILENET_V2);
        long macLimit = (long) Math.floor(nas.macLimit() * reference.macs());
        double millisLimit = limit == null ? Double.NaN : limit.fraction() * reference.millis();
        String description = limit == null
                ? String.format("at most %.0f%% of mobilenetv2's %,d MACs", 100 * nas.macLimit(), reference.macs())
                : String.format("at most %.0f%% of mobilenetv2's %,d MACs and estimated latency at batch %d at most %.0f%%"
                        + " of its %.3f ms", 100 * nas.macLimit(), reference.macs(), limit.batch(), 100 * limit.fraction(),
                        reference.millis());
        int[] start = referenceTokens(space);
        LOG.info("searching {} layouts under: {}; from {}", String.format("%,d", space.tokens().size()), description,
                start != null ? "the zoo's mobilenetv2 when it meets the limit" : "random layouts that meet it");

        ctx.describe("collecting the candidates' training and validation images");
        String data = ctx.input("prepare-data").toString();
        LabeledImages train = ValidationImages.firstN(ctx.spark(), data + "/" + ImageTable.file("train"),
                assembler.shape(), nas.trainImages());
        LabeledImages val = ValidationImages.firstN(ctx.spark(), data + "/" + ImageTable.file("val"), assembler.shape(),
                nas.valImages());
        CandidateTraining.Budget budget = new CandidateTraining.Budget(train, val, assembler,
                s.recipe().recipe(nas.epochs(), nas.learningRate(), s.seed()), nas.threadsPerTask());
        LOG.info("each candidate trains {} epoch(s) on {} images and is scored on {} val images", nas.epochs(),
                train.size(), val.size());

        AnnealingRounds.Search search = new AnnealingRounds.Search(space.tokens(),
                costs.constraint(description, macLimit, millisLimit), start, nas.rounds(),
                "nas.mac-limit, nas.latency-limit; nas.stages; nas.max-retries");
        List<Trial> trials = AnnealingRounds.run(ctx, search, (round, proposals) -> {
            List<CandidateTraining.Task> tasks = new ArrayList<>();
            for (int i = 0; i < proposals.size(); i++) {
                tasks.add(new CandidateTraining.Task(i, space.layout(proposals.get(i))));
            }
            List<CandidateTraining.Result> results = CandidateTraining.run(ctx.spark(), tasks, budget);
            List<AnnealingRounds.Scored> scored = new ArrayList<>();
            for (int i = 0; i < proposals.size(); i++) {
                CandidateTraining.Result r = results.get(i);
                ArchitectureCosts.Cost cost = costs.of(proposals.get(i));
                LOG.info(String.format("round %d candidate %d: val top-1 %.2f%%, %,d MACs%s, trained in %.0f s: %s", round,
                        i, 100 * r.top1(), cost.macs(), limit == null ? "" : String.format(", %.3f ms", cost.millis()),
                        r.seconds(), tasks.get(i).layout()));
                scored.add(new AnnealingRounds.Scored(tasks.get(i).layout().toString(), cost.macs(),
                        1 - cost.macs() / (double) reference.macs(), r.top1(), r.loss(), cost.millis(),
                        limit == null ? r.top1() : limit.reward(r.top1(), cost.millis(), millisLimit)));
            }
            return scored;
        }, limit == null ? null : costs::table);

        Trial best = AnnealingRounds.best(trials);
        InvertedResidualLayout layout = space.layout(best.tokens());
        LOG.info(String.format("best of %d candidates: val top-1 %.2f%%, %,d MACs (%.0f%% of mobilenetv2's) (round %d): %s",
                trials.size(), 100 * best.top1(), best.macs(), 100 * (1 - best.reduction()), best.round(), layout));
        ArchitectureFiles.write(ctx, layout);
        SearchTrialsTable.TABLE.write(ctx, trials);
        if (limit != null) {
            LatencyTables.UNITS.write(ctx, LatencyTables.rows(costs.table()));
        }
    }

    /** The zoo mobilenetv2's tokens, or null when the space cannot express it. */
    private static int[] referenceTokens(ArchitectureSpace space) {
        try {
            return space.tokensOf(InvertedResidualLayout.MOBILENET_V2);
        } catch (IllegalArgumentException e) {
            LOG.info("the zoo's mobilenetv2 is outside the space ({})", e.getMessage());
            return null;
        }
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) throws IOException {
        List<Trial> trials = SearchTrialsTable.TABLE.read(report.spark(), checkpoint);
        Trial best = AnnealingRounds.best(trials);
        Trial first = trials.stream().filter(t -> t.round() == 1 && t.candidate() == 0).findFirst().orElseThrow();
        MarkdownTable table = new MarkdownTable("candidate", "round", "MACs", "val top-1 %", "latency ms", "layout");
        table.row("start (mobilenetv2, or the first feasible)", first.round(), String.format("%,d", first.macs()),
                Report.percent(first.top1()), Report.decimal(first.latencyMs(), 3), first.architecture());
        table.row("best of " + trials.size(), best.round(), String.format("%,d", best.macs()), Report.percent(best.top1()),
                Report.decimal(best.latencyMs(), 3), best.architecture());
        report.heading("Light-NAS (`" + stage + "`)")
                .paragraph("Layouts: stem | stages as t (expansion) c (channels) n (repeats) s (stride) k (kernel) | head."
                        + " Val top-1 after each candidate's short training.")
                .table(table)
                .image(stage + "-trajectory.png", "search trajectory", SearchCharts.trajectory(trials))
                .image(stage + "-candidates.png", "every candidate", SearchCharts.front(trials));
    }
}
