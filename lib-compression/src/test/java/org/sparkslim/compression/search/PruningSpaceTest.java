package org.sparkslim.compression.search;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.ChannelGroup;
import org.sparkslim.compression.prune.Criterion;
import org.sparkslim.compression.prune.Importance;
import org.sparkslim.compression.prune.PlanBuilder;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.PruningScope;
import org.sparkslim.compression.prune.RatioSolver;

class PruningSpaceTest {
    private static final ComputationGraph NET = TestNetworks.zoo("resnet20");
    private static final PruningScope BY_EIGHT = new PruningScope(List.of("*"), List.of(), 8, 8);

    private static PlanBuilder builder(PruningScope scope) {
        ChannelGraph graph = ChannelGraph.of(NET);
        return new PlanBuilder(graph, Importance.score(NET, graph, Criterion.L1_NORM, Importance.Combine.SUM), scope,
                "l1_norm");
    }

    private static final ToLongFunction<PruningPlan> MACS =
            plan -> ModelCost.of(Pruner.prunedConfiguration(NET, plan), TestNetworks.FASHION, 0).macs();

    @Test
    void tokensNameWidthsTheScopeAllowsAndBecomeThePlansThatKeepThem() {
        PruningSpace space = new PruningSpace(builder(BY_EIGHT));
        int[] whole = new int[space.groups().size()];
        assertTrue(space.plan(whole).isEmpty(), "token 0 keeps every group whole");

        int[] t = whole.clone();
        t[0] = 1;
        t[t.length - 1] = space.tokens().high(t.length - 1) - 1;
        PruningPlan plan = space.plan(t);
        Map<String, Integer> widths = space.widths(t);
        for (PruningPlan.GroupPlan g : plan.groups()) {
            assertEquals((int) widths.get(g.group()), g.kept().length, g.group());
            assertEquals(0, g.kept().length % 8, g.group());
        }
        assertEquals(2, plan.groups().size());
        assertArrayEquals(t, space.tokensOf(plan));
    }

    @Test
    void theMacWindowAdmitsTheUniformPlanAndAnnealingStaysInside() {
        PlanBuilder builder = builder(BY_EIGHT);
        PruningSpace space = new PruningSpace(builder);
        Constraint window = space.macReductionWithin(MACS, 0.5, 0.06);
        assertTrue(window.description().contains("50.0% +- 6.0%"), window.description());
        assertTrue(!window.allows(new int[space.groups().size()]), "the whole network is outside the window");

        // the uniform plan nearest the target is in the window; the search starts there
        RatioSolver.Solution uniform = new RatioSolver(builder, MACS).uniform(0.5, 0.06);
        int[] start = space.tokensOf(uniform.plan());
        assertTrue(window.allows(start), "uniform pruning removes " + uniform.reduction());
        AnnealingController search = new AnnealingController(space.tokens(), new AnnealingSettings(1, 0.9, 2, 2000, 4),
                window, start);
        for (int round = 0; round < 4; round++) {
            List<int[]> proposals = search.propose(3);
            for (int[] p : proposals) {
                double reduction = 1 - MACS.applyAsLong(space.plan(p)) / (double) MACS.applyAsLong(PruningPlan.empty("x"));
                assertEquals(0.5, reduction, 0.06 + 1e-12);
            }
            // reward: fewer channels removed from the first group
            search.update(proposals.stream().mapToDouble(p -> -p[0]).toArray());
        }
        assertArrayEquals(start, search.state().history().get(0).tokens());
    }

    @Test
    void aPlanWithAWidthTheScopeDoesNotAllowIsRefusedNamingTheGroup() {
        PruningSpace space = new PruningSpace(builder(BY_EIGHT));
        PruningPlan odd = builder(PruningScope.ALL).plan(Map.of(space.groups().get(0).name(), 0.3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> space.tokensOf(odd));
        assertTrue(e.getMessage().contains(space.groups().get(0).name()), e.getMessage());
    }

    /** A start plan made elsewhere is taken only as widths this search could itself propose. */
    @Test
    void aPlanFromOutsideTheSearchIsRefusedWhenItPrunesWhatTheSearchCannot() {
        ChannelGroup first = ChannelGraph.of(NET).groups().stream().filter(ChannelGroup::prunable).findFirst().orElseThrow();
        PruningScope withoutFirst = new PruningScope(List.of("*"), first.producers(), 8, 8);
        PruningSpace space = new PruningSpace(builder(withoutFirst));
        assertTrue(space.groups().stream().noneMatch(g -> g.name().equals(first.name())));

        PruningPlan outside = builder(BY_EIGHT).plan(Map.of(first.name(), 0.5));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> space.tokensOf(outside));
        assertTrue(e.getMessage().contains("'" + first.name() + "'") && e.getMessage().contains("not in the pruning scope"),
                e.getMessage());

        ChannelGroup searched = space.groups().get(0);
        int[] kept = IntStream.range(0, searched.size() / 2).toArray();
        PruningPlan otherModel = new PruningPlan("l1_norm", List.of(
                new PruningPlan.GroupPlan(searched.name(), searched.size() * 2, kept)));
        e = assertThrows(IllegalArgumentException.class, () -> space.tokensOf(otherModel));
        assertTrue(e.getMessage().contains("has " + 2 * searched.size() + " channels"), e.getMessage());

        PruningPlan blocks = new PruningPlan("l1_norm", List.of(), List.of("stage1.block1"));
        e = assertThrows(IllegalArgumentException.class, () -> space.tokensOf(blocks));
        assertTrue(e.getMessage().contains("stage1.block1"), e.getMessage());

        // the same group, kept whole by the plan, is no obstacle
        PruningPlan whole = new PruningPlan("l1_norm", List.of(new PruningPlan.GroupPlan(first.name(), first.size(),
                IntStream.range(0, first.size()).toArray())));
        assertArrayEquals(new int[space.groups().size()], space.tokensOf(whole));
    }
}
