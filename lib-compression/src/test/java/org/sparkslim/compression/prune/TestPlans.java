package org.sparkslim.compression.prune;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/** Pruning plans for tests. */
public final class TestPlans {
    private TestPlans() {
    }

    /** Every other channel of every prunable group. */
    public static PruningPlan everyOtherChannel(ChannelGraph graph) {
        List<PruningPlan.GroupPlan> groups = new ArrayList<>();
        for (ChannelGroup g : graph.prunableGroups()) {
            int[] even = IntStream.range(0, g.size()).filter(i -> i % 2 == 0).toArray();
            groups.add(new PruningPlan.GroupPlan(g.name(), g.size(), even));
        }
        return new PruningPlan("test", groups);
    }
}
