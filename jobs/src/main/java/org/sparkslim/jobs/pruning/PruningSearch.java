package org.sparkslim.jobs.pruning;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.sparkslim.compression.search.Constraint;
import org.sparkslim.compression.search.PruningSpace;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.search.AnnealingRounds;
import org.sparkslim.jobs.settings.PruneSearchSettings;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.SensitivityAnalysis;
import org.sparkslim.jobs.tables.SearchTrialsTable.Trial;

/**
 * Automatic pruning as {@link AnnealingRounds}: each round's candidate plans are applied and scored
 * in parallel, one Spark task each, as sensitivity points are.
 */
public final class PruningSearch {
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
                                  BroadcastModel model, SensitivityAnalysis.Scoring scoring) throws Exception {
        AnnealingRounds.Search search = new AnnealingRounds.Search(problem.space().tokens(), problem.constraint(),
                problem.start(), settings.rounds(),
                "prune.target-macs-reduction and prune.tolerance, or prune-search.latency-limit; prune.scope;"
                        + " prune-search.max-retries");
        LatencyBudget latency = problem.latency();
        return AnnealingRounds.run(ctx, search, (round, proposals) -> {
            List<SensitivityAnalysis.Task> tasks = new ArrayList<>();
            for (int i = 0; i < proposals.size(); i++) {
                tasks.add(new SensitivityAnalysis.Task("round " + round + " candidate " + i, 0,
                        problem.space().plan(proposals.get(i))));
            }
            List<SensitivityAnalysis.Result> results = SensitivityAnalysis.run(ctx.spark(), model, tasks, scoring);
            List<AnnealingRounds.Scored> scored = new ArrayList<>();
            for (int i = 0; i < proposals.size(); i++) {
                SensitivityAnalysis.Result r = results.get(i);
                double millis = latency == null ? Double.NaN : latency.millis(proposals.get(i));
                scored.add(new AnnealingRounds.Scored(widths(problem.space(), proposals.get(i)), r.macs(),
                        1 - r.macs() / (double) problem.baseMacs(), r.top1(), r.loss(), millis,
                        latency == null ? r.top1() : latency.reward(r.top1(), millis)));
            }
            return scored;
        }, latency == null ? null : latency::table);
    }

    private static String widths(PruningSpace space, int[] tokens) {
        return space.widths(tokens).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }
}
