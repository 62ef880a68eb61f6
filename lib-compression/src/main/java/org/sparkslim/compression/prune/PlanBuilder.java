package org.sparkslim.compression.prune;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Turns per-group ratios and channel scores into a {@link PruningPlan}: each group keeps its
 * top-scored channels; a residual block in scope is removed when its ratio is 1.
 */
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

    /** The residual blocks this builder may remove (none unless the scope allows removing blocks). */
    public List<ResidualBlock> removableBlocks() {
        return graph.residualBlocks().stream().filter(scope::allows).toList();
    }

    /**
     * @param ratios fraction of channels to remove, by group name, and 1 for each block to remove, by
     *     block name; groups and blocks not named are left alone
     */
    public PruningPlan plan(Map<String, Double> ratios) {
        List<String> removed = removableBlocks().stream().filter(b -> ratios.getOrDefault(b.name(), 0.0) >= 1)
                .map(ResidualBlock::name).toList();
        Set<String> removedVertices = graph.branchVertices(removed);
        List<PruningPlan.GroupPlan> groups = new ArrayList<>();
        for (ChannelGroup group : prunable()) {
            Double ratio = ratios.get(group.name());
            // a group made inside a removed block goes with it
            if (ratio == null || ratio <= 0 || removedVertices.containsAll(group.producers())) {
                continue;
            }
            PruningPlan.GroupPlan gp = keepTop(group, scope.keptChannels(group.size(), ratio));
            if (gp.kept().length < group.size()) {
                groups.add(gp);
            }
        }
        return new PruningPlan(criterion, groups, removed);
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
