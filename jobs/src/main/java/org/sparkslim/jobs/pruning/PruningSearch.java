package org.sparkslim.jobs.pruning;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.latency.LatencyTable;
import org.sparkslim.compression.search.AnnealingController;
import org.sparkslim.compression.search.AnnealingState;
import org.sparkslim.compression.search.Constraint;
import org.sparkslim.compression.search.Evaluation;
import org.sparkslim.compression.search.NoFeasibleCandidateException;
import org.sparkslim.compression.search.PruningSpace;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.RunDirectory;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.settings.PruneSearchSettings;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.SensitivityAnalysis;
import org.sparkslim.jobs.tables.LatencyTables;
import org.sparkslim.jobs.tables.SearchTrialsTable.Trial;
import org.sparkslim.jobs.tables.SearchTrialsTable;

/**
 * Simulated annealing over per-group widths, in rounds: each round's candidates are pruned and scored
 * in parallel (one Spark task each, as sensitivity points are), and the trials so far are saved to the
 * stage's resume area, so that a killed search resumes after its last whole round and ends as the
 * uninterrupted one would.
 */
public final class PruningSearch {
    private static final Logger LOG = LoggerFactory.getLogger(PruningSearch.class);
    private static final String ROUND_PREFIX = "round-";

    private PruningSearch() {
    }

    /**
     * What a search explores: its space, the constraint every candidate meets, where it starts, the
     * unpruned model's MACs (to report each candidate's reduction), and, under a latency constraint,
     * the budget that estimates candidates' latency and makes their reward (else null).
     */
    public record Problem(PruningSpace space, Constraint constraint, int[] start, long baseMacs, LatencyBudget latency) {
    }

    /** Runs (or resumes) the search; returns every trial, in order. */
    public static List<Trial> run(StageContext<?> ctx, Problem problem, PruneSearchSettings settings,
                                  BroadcastModel model, SensitivityAnalysis.Scoring scoring) throws IOException {
        List<Trial> trials = new ArrayList<>(saved(ctx));
        AnnealingController search = AnnealingController.resume(problem.space().tokens(), settings.annealing(),
                problem.constraint(), problem.start(), state(trials));
        if (!trials.isEmpty()) {
            LOG.info("resuming the search after round {}/{} ({} candidates evaluated)", search.state().rounds(),
                    settings.rounds(), trials.size());
        }
        for (int round = search.state().rounds() + 1; round <= settings.rounds(); round++) {
            double temperature = search.temperature();
            List<int[]> proposals = propose(search, settings.candidatesPerRound());
            ctx.describe(String.format("search round %d/%d: scoring %d pruned candidates", round, settings.rounds(),
                    proposals.size()));
            List<SensitivityAnalysis.Task> tasks = new ArrayList<>();
            for (int i = 0; i < proposals.size(); i++) {
                tasks.add(new SensitivityAnalysis.Task("round " + round + " candidate " + i, 0,
                        problem.space().plan(proposals.get(i))));
            }
            List<SensitivityAnalysis.Result> results = SensitivityAnalysis.run(ctx.spark(), model, tasks, scoring);
            double[] latencies = new double[proposals.size()];
            double[] rewards = new double[proposals.size()];
            for (int i = 0; i < proposals.size(); i++) {
                latencies[i] = problem.latency() == null ? Double.NaN : problem.latency().millis(proposals.get(i));
                rewards[i] = problem.latency() == null ? results.get(i).top1()
                        : problem.latency().reward(results.get(i).top1(), latencies[i]);
            }
            search.update(rewards);
            Evaluation current = search.state().current();
            for (int i = 0; i < proposals.size(); i++) {
                int[] tokens = proposals.get(i);
                SensitivityAnalysis.Result r = results.get(i);
                boolean accepted = current.round() == round && Arrays.equals(current.tokens(), tokens);
                trials.add(new Trial(round, i, tokens, widths(problem.space(), tokens), r.macs(),
                        1 - r.macs() / (double) problem.baseMacs(), r.top1(), r.loss(), latencies[i], rewards[i],
                        temperature, accepted));
            }
            save(ctx, round, trials, problem.latency());
            Evaluation best = search.state().best();
            LOG.info(String.format("search round %d/%d (temperature %.3g): best of round %.2f%%, current %.2f%% (round %d),"
                            + " best %.2f%% (round %d)", round, settings.rounds(), temperature,
                    100 * results.stream().mapToDouble(SensitivityAnalysis.Result::top1).max().orElseThrow(),
                    100 * current.reward(), current.round(), 100 * best.reward(), best.round()));
        }
        return trials;
    }

    /** A round's candidates; a window nothing new fits in is the user's to widen. */
    private static List<int[]> propose(AnnealingController search, int count) {
        try {
            return search.propose(count);
        } catch (NoFeasibleCandidateException e) {
            throw new ConfigException("prune-search: " + e.getMessage() + " (the constraint: prune.target-macs-reduction"
                    + " and prune.tolerance, or prune-search.latency-limit; prune.scope; prune-search.max-retries)", e);
        }
    }

    /** The search's state as its trials record it. */
    static AnnealingState state(List<Trial> trials) {
        if (trials.isEmpty()) {
            return AnnealingState.START;
        }
        List<Evaluation> history = trials.stream().map(t -> new Evaluation(t.tokens(), t.reward(), t.round())).toList();
        Evaluation best = history.get(0);
        Evaluation current = null;
        for (int i = 0; i < history.size(); i++) {
            best = history.get(i).reward() > best.reward() ? history.get(i) : best;
            current = trials.get(i).accepted() ? history.get(i) : current;
        }
        return new AnnealingState(trials.get(trials.size() - 1).round(), current, best, history);
    }

    /** The best trial: the earliest of the highest reward, as the controller keeps it. */
    public static Trial best(List<Trial> trials) {
        Evaluation best = state(trials).best();
        return trials.stream().filter(t -> t.round() == best.round() && Arrays.equals(t.tokens(), best.tokens()))
                .findFirst().orElseThrow();
    }

    private static String widths(PruningSpace space, int[] tokens) {
        return space.widths(tokens).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }

    /** The trials after the last whole round a run of this stage saved, in order (none: a new search). */
    private static List<Trial> saved(StageContext<?> ctx) throws IOException {
        Optional<Path> latest = latestRound(ctx);
        if (latest.isEmpty()) {
            return List.of();
        }
        List<Trial> trials = new ArrayList<>(SearchTrialsTable.TABLE.read(ctx.spark(), latest.get()));
        trials.sort(Comparator.comparingInt(Trial::round).thenComparingInt(Trial::candidate));
        return trials;
    }

    /**
     * Saves the trials after {@code round} (and the latency table so far) as a new directory, then
     * deletes the older ones.
     */
    private static void save(StageContext<?> ctx, int round, List<Trial> trials, LatencyBudget latency)
            throws IOException {
        FileSystem fs = ctx.run().fileSystem();
        Path dir = new Path(ctx.resumeArea(), String.format("%s%05d", ROUND_PREFIX, round));
        fs.delete(dir, true);
        if (latency != null) {
            LatencyTables.UNITS.write(ctx.spark(), dir, LatencyTables.rows(latency.table()));
        }
        // the trials last: their table's _SUCCESS marks the round complete
        SearchTrialsTable.TABLE.write(ctx.spark(), dir, trials);
        for (FileStatus s : fs.listStatus(ctx.resumeArea())) {
            if (s.getPath().getName().startsWith(ROUND_PREFIX) && !s.getPath().getName().equals(dir.getName())) {
                fs.delete(s.getPath(), true);
            }
        }
    }

    /** The latency table the last saved round had, if the search saved a round under a latency constraint. */
    public static Optional<LatencyTable> savedLatencyTable(StageContext<?> ctx, String engine) throws IOException {
        Optional<Path> latest = latestRound(ctx);
        if (latest.isEmpty() || !ctx.run().fileSystem().exists(new Path(latest.get(), LatencyTables.UNITS.file()))) {
            return Optional.empty();
        }
        return Optional.of(LatencyTables.table(engine, LatencyTables.UNITS.read(ctx.spark(), latest.get())));
    }

    /** The newest round directory whose table Spark finished writing. */
    private static Optional<Path> latestRound(StageContext<?> ctx) throws IOException {
        FileSystem fs = ctx.run().fileSystem();
        if (!fs.exists(ctx.resumeArea())) {
            return Optional.empty();
        }
        Path latest = null;
        for (FileStatus s : fs.listStatus(ctx.resumeArea())) {
            Path table = new Path(s.getPath(), SearchTrialsTable.TABLE.file());
            if (s.getPath().getName().startsWith(ROUND_PREFIX) && fs.exists(new Path(table, RunDirectory.SUCCESS))
                    && (latest == null || s.getPath().getName().compareTo(latest.getName()) > 0)) {
                latest = s.getPath();
            }
        }
        return Optional.ofNullable(latest);
    }
}
