package org.sparkslim.jobs.search;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.latency.LatencyTable;
import org.sparkslim.compression.search.AnnealingController;
import org.sparkslim.compression.search.AnnealingState;
import org.sparkslim.compression.search.Constraint;
import org.sparkslim.compression.search.Evaluation;
import org.sparkslim.compression.search.NoFeasibleCandidateException;
import org.sparkslim.compression.search.TokenSpace;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.onnx.LatencyEstimator;
import org.sparkslim.jobs.onnx.OnnxLatency;
import org.sparkslim.jobs.pipeline.RunDirectory;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.settings.AnnealingRoundsSettings;
import org.sparkslim.jobs.settings.LatencyLimit;
import org.sparkslim.jobs.tables.LatencyTables;
import org.sparkslim.jobs.tables.SearchTrialsTable.Trial;
import org.sparkslim.jobs.tables.SearchTrialsTable;

/**
 * Simulated annealing in rounds, as every search of a stage runs it: each round's candidates are
 * scored together (in parallel Spark tasks, by the search's {@link RoundScoring}), and the trials so far
 * are saved to the stage's resume area, so that a killed search resumes after its last whole round
 * and ends as the uninterrupted one would.
 */
public final class AnnealingRounds {
    private static final Logger LOG = LoggerFactory.getLogger(AnnealingRounds.class);
    private static final String ROUND_PREFIX = "round-";

    /**
     * One search: its tokens, the constraint every candidate meets, where it starts (null: random
     * tokens that meet the constraint), how it anneals, and the config keys a user widens when nothing
     * new meets the constraint.
     */
    public record Search(TokenSpace space, Constraint constraint, int[] start, AnnealingRoundsSettings settings,
                         String constraintKeys) {
        int rounds() {
            return settings.rounds();
        }
    }

    /** What a candidate earned, with what its tokens mean and what it costs. */
    public record Scored(String architecture, long macs, double reduction, double top1, double loss, double latencyMs,
                         double reward) {
    }

    /** Scores one round's proposals, in their order. */
    @FunctionalInterface
    public interface RoundScoring {
        List<Scored> score(int round, List<int[]> proposals) throws Exception;
    }

    private AnnealingRounds() {
    }

    /**
     * Runs (or resumes) a search; returns every trial, in order.
     *
     * @param latencyTable the latency table to save with each round (null: none), so a resumed search
     *                     estimates with the times the killed one measured
     */
    public static List<Trial> run(StageContext<?> ctx, Search search, RoundScoring scoring,
                                  Supplier<LatencyTable> latencyTable) throws Exception {
        String stage = ctx.stageName();
        List<Trial> trials = new ArrayList<>(saved(ctx));
        AnnealingController annealing = AnnealingController.resume(search.space(), search.settings().annealing(),
                search.constraint(), search.start(), state(trials));
        if (!trials.isEmpty()) {
            LOG.info("resuming the search after round {}/{} ({} candidates evaluated)", annealing.state().rounds(),
                    search.rounds(), trials.size());
        }
        for (int round = annealing.state().rounds() + 1; round <= search.rounds(); round++) {
            double temperature = annealing.temperature();
            List<int[]> proposals;
            try {
                proposals = annealing.propose(search.settings().candidatesPerRound());
            } catch (NoFeasibleCandidateException e) {
                throw new ConfigException(stage + ": " + e.getMessage() + " (the constraint: " + search.constraintKeys()
                        + ")", e);
            }
            ctx.describe(String.format("search round %d/%d: scoring %d candidates", round, search.rounds(),
                    proposals.size()));
            List<Scored> scored = scoring.score(round, proposals);
            annealing.update(scored.stream().mapToDouble(Scored::reward).toArray());
            Evaluation current = annealing.state().current();
            for (int i = 0; i < proposals.size(); i++) {
                int[] tokens = proposals.get(i);
                Scored s = scored.get(i);
                boolean accepted = current.round() == round && Arrays.equals(current.tokens(), tokens);
                trials.add(new Trial(round, i, tokens, s.architecture(), s.macs(), s.reduction(), s.top1(), s.loss(),
                        s.latencyMs(), s.reward(), temperature, accepted));
            }
            save(ctx, round, trials, latencyTable == null ? null : latencyTable.get());
            Evaluation best = annealing.state().best();
            LOG.info(String.format("search round %d/%d (temperature %.3g): best of round %.2f%%, current %.2f%% (round %d),"
                            + " best %.2f%% (round %d)", round, search.rounds(), temperature,
                    100 * scored.stream().mapToDouble(Scored::top1).max().orElseThrow(),
                    100 * current.reward(), current.round(), 100 * best.reward(), best.round()));
        }
        return trials;
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
    private static void save(StageContext<?> ctx, int round, List<Trial> trials, LatencyTable latency)
            throws IOException {
        FileSystem fs = ctx.run().fileSystem();
        Path dir = new Path(ctx.resumeArea(), String.format("%s%05d", ROUND_PREFIX, round));
        fs.delete(dir, true);
        if (latency != null) {
            LatencyTables.UNITS.write(ctx.spark(), dir, LatencyTables.rows(latency));
        }
        // the trials last: their table's _SUCCESS marks the round complete
        SearchTrialsTable.TABLE.write(ctx.spark(), dir, trials);
        for (FileStatus s : fs.listStatus(ctx.resumeArea())) {
            if (s.getPath().getName().startsWith(ROUND_PREFIX) && !s.getPath().getName().equals(dir.getName())) {
                fs.delete(s.getPath(), true);
            }
        }
    }

    /**
     * The estimator of a latency-limited search: its table is the one the last saved round had (a
     * resumed search sees the times the killed one measured), else {@code limit.table()}'s
     * checkpoint, else empty; units it lacks are timed as {@code limit.timing()} says.
     */
    public static LatencyEstimator latencyEstimator(StageContext<?> ctx, LatencyLimit limit, ImageShape shape)
            throws IOException {
        LatencyTable seed = savedLatencyTable(ctx, OnnxLatency.ENGINE).orElse(limit.table().isEmpty()
                ? new LatencyTable(OnnxLatency.ENGINE, List.of())
                : LatencyTables.table(OnnxLatency.ENGINE, LatencyTables.UNITS.read(ctx.spark(), ctx.input(limit.table()))));
        OnnxLatency timer = new OnnxLatency(limit.timing().warmup(), limit.timing().runs(), limit.timing().threads());
        return new LatencyEstimator(seed, timer, shape, limit.batch());
    }

    /** The latency table the last saved round had, if the search saved a round with one. */
    private static Optional<LatencyTable> savedLatencyTable(StageContext<?> ctx, String engine) throws IOException {
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
