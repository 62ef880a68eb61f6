package org.sparkslim.compression.search;

import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;
import org.sparkslim.compression.prune.ChannelGroup;
import org.sparkslim.compression.prune.PlanBuilder;
import org.sparkslim.compression.prune.PruningPlan;

/**
 * Automatic pruning as a token search: one token per prunable group, the index of its width among the
 * widths the scope allows it (largest, the whole group, first). Every token list is a plan the
 * pruner can apply, and every width a multiple of the scope's rounding.
 */
public final class PruningSpace {
    private final PlanBuilder builder;
    private final List<ChannelGroup> groups;
    private final int[][] widths;
    private final TokenSpace tokens;

    public PruningSpace(PlanBuilder builder) {
        this.builder = builder;
        this.groups = builder.prunable();
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("no channel group is in the pruning scope: there is nothing to search");
        }
        this.widths = groups.stream().map(builder::allowedWidths).toArray(int[][]::new);
        this.tokens = TokenSpace.ofChoices(Arrays.stream(widths).mapToInt(w -> w.length).toArray());
    }

    public TokenSpace tokens() {
        return tokens;
    }

    public List<ChannelGroup> groups() {
        return groups;
    }

    /** Each group's width under {@code t}, by group name in network order. */
    public Map<String, Integer> widths(int[] t) {
        Map<String, Integer> w = new LinkedHashMap<>();
        for (int i = 0; i < groups.size(); i++) {
            w.put(groups.get(i).name(), widths[i][t[i]]);
        }
        return w;
    }

    /** The plan that keeps each group's top-scored channels at the widths {@code t} names. */
    public PruningPlan plan(int[] t) {
        Map<String, Double> ratios = new HashMap<>();
        for (int i = 0; i < groups.size(); i++) {
            ratios.put(groups.get(i).name(), 1 - widths[i][t[i]] / (double) groups.get(i).size());
        }
        return builder.plan(ratios);
    }

    /**
     * The tokens of a plan: the uniform one the search starts from, or a plan made elsewhere (say, by
     * sensitivity) that prunes only groups of this scope, to widths it allows, and removes no block.
     */
    public int[] tokensOf(PruningPlan plan) {
        if (!plan.removedBlocks().isEmpty()) {
            throw new IllegalArgumentException("the plan removes blocks " + plan.removedBlocks()
                    + "; a search only chooses widths");
        }
        Set<String> searched = groups.stream().map(ChannelGroup::name).collect(Collectors.toSet());
        for (PruningPlan.GroupPlan g : plan.groups()) {
            if (!searched.contains(g.group()) && g.kept().length < g.size()) {
                throw new IllegalArgumentException("the plan prunes group '" + g.group() + "', which is not in the"
                        + " pruning scope");
            }
        }
        int[] t = new int[groups.size()];
        for (int i = 0; i < groups.size(); i++) {
            PruningPlan.GroupPlan gp = plan.group(groups.get(i).name());
            if (gp != null && gp.size() != groups.get(i).size()) {
                throw new IllegalArgumentException("the plan's group '" + gp.group() + "' has " + gp.size()
                        + " channels, this model's " + groups.get(i).size());
            }
            int width = gp == null ? groups.get(i).size() : gp.kept().length;
            t[i] = indexOf(widths[i], width, groups.get(i).name());
        }
        return t;
    }

    /** Candidates whose MACs are {@code target +- tolerance} below the unpruned network's. */
    public Constraint macReductionWithin(ToLongFunction<PruningPlan> macs, double target, double tolerance) {
        double base = macs.applyAsLong(PruningPlan.empty("none"));
        return new Constraint(String.format("MACs reduced by %.1f%% +- %.1f%%", 100 * target, 100 * tolerance), t -> {
            double reduction = 1 - macs.applyAsLong(plan(t)) / base;
            return Math.abs(reduction - target) <= tolerance;
        });
    }

    private static int indexOf(int[] allowed, int width, String group) {
        for (int i = 0; i < allowed.length; i++) {
            if (allowed[i] == width) {
                return i;
            }
        }
        throw new IllegalArgumentException("group '" + group + "' keeps " + width + " channels, not a width its scope"
                + " allows: " + Arrays.toString(allowed));
    }
}
