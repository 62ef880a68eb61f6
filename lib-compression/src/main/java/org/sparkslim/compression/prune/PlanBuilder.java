package org.sparkslim.compression.prune;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/** Turns per-group ratios and channel scores into a {@link PruningPlan}: each group keeps its top-scored channels. */
public final class PlanBuilder {
    private final ChannelGraph graph;
    private final Map<String, double[]> scores;
    private final PruningScope scope;
    private final String criterion;

    public PlanBuilder(ChannelGraph graph, Map<String, double[]> scores, PruningScope scope, String criterion) {
        this.graph = graph;
        this.scores = scores;
        this.scope = scope;
        this.criterion = criterion;
    }

    /** The groups this builder may prune, in network order. */
    public List<ChannelGroup> prunable() {
        return graph.prunableGroups().stream().filter(scope::allows).toList();
    }

    /** @param ratios fraction of channels to remove, by group name; groups not named are left alone */
    public PruningPlan plan(Map<String, Double> ratios) {
        List<PruningPlan.GroupPlan> groups = new ArrayList<>();
        for (ChannelGroup group : prunable()) {
            Double ratio = ratios.get(group.name());
            if (ratio == null || ratio <= 0) {
                continue;
            }
            PruningPlan.GroupPlan gp = keepTop(group, scope.keptChannels(group.size(), ratio));
            if (gp.kept().length < group.size()) {
                groups.add(gp);
            }
        }
        return new PruningPlan(criterion, groups);
    }

    /** The channel counts the scope lets {@code group} keep, largest (its full size) first. */
    public int[] allowedWidths(ChannelGroup group) {
        return scope.allowedWidths(group.size());
    }

    /** The same ratio for every prunable group. */
    public PruningPlan uniform(double ratio) {
        return plan(prunable().stream().collect(java.util.stream.Collectors.toMap(ChannelGroup::name, g -> ratio)));
    }

    private PruningPlan.GroupPlan keepTop(ChannelGroup group, int keep) {
        double[] s = scores.get(group.name());
        if (s == null || s.length != group.size()) {
            throw new IllegalArgumentException("no scores for group '" + group.name() + "'");
        }
        int[] kept = IntStream.range(0, s.length).boxed()
                .sorted(Comparator.comparingDouble((Integer i) -> -s[i]).thenComparingInt(i -> i))
                .limit(keep).mapToInt(Integer::intValue).toArray();
        return new PruningPlan.GroupPlan(group.name(), group.size(), kept);
    }
}
