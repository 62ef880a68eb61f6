package org.sparkslim.compression.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.prune.SensitivityCurves.Point;

class RatioSolverTest {
    static RatioSolver solver(ComputationGraph net, PlanBuilder[] out) {
        return solver(net, PruningScope.ALL, out);
    }

    static RatioSolver solver(ComputationGraph net, PruningScope scope, PlanBuilder[] out) {
        ChannelGraph graph = ChannelGraph.of(net);
        PlanBuilder builder = new PlanBuilder(graph, Importance.score(net, graph, Criterion.L1_NORM,
                Importance.Combine.MEAN), scope, "l1_norm");
        if (out != null) {
            out[0] = builder;
        }
        return new RatioSolver(builder, plan -> ModelCost.of(Pruner.prunedConfiguration(net, plan),
                TestNetworks.FASHION, 0).macs());
    }

    @ParameterizedTest
    @ValueSource(strings = {"vgg", "resnet20", "mobilenetv1"})
    void uniformHitsTheMacTargetWithinOnePercent(String family) {
        ComputationGraph net = TestNetworks.zoo(family);
        RatioSolver.Solution s = solver(net, null).uniform(0.5, 0.01);
        assertEquals(0.5, s.reduction(), 0.005, family + " achieved " + s.reduction());
        long macs = ModelCost.of(Pruner.apply(net, s.plan()), TestNetworks.FASHION).macs();
        assertEquals(1 - s.reduction(), macs / (double) ModelCost.of(net, TestNetworks.FASHION).macs(), 1e-12,
                "the estimate is the built network's cost");
    }

    @Test
    void aGivenPlanIsScoredAsTheSolutionThatMadeIt() {
        ComputationGraph net = TestNetworks.zoo("resnet20");
        RatioSolver solver = solver(net, null);
        RatioSolver.Solution solved = solver.uniform(0.5, 0.01);
        RatioSolver.Solution given = solver.of(PruningPlan.fromJson(solved.plan().toJson(), "test"));
        assertEquals(solved.reduction(), given.reduction(), 1e-12);
        solved.plan().groups().forEach(g -> assertEquals(1 - g.kept().length / (double) g.size(),
                given.ratios().get(g.group()), 1e-12, g.group()));
    }

    @Test
    void interpolatesTheLargestRatioUnderTheThreshold() {
        List<Point> curve = List.of(new Point(0.2, 0.01), new Point(0.4, 0.03), new Point(0.6, 0.2));
        assertEquals(0.3, RatioSolver.ratioAt(curve, 0.02), 1e-12);
        assertEquals(0.1, RatioSolver.ratioAt(curve, 0.005), 1e-12);
        assertEquals(0.6, RatioSolver.ratioAt(curve, 0.5), 1e-12);
    }

    @Test
    void sensitiveGroupsArePrunedLess() {
        ComputationGraph net = TestNetworks.zoo("vgg");
        PlanBuilder[] builder = new PlanBuilder[1];
        RatioSolver solver = solver(net, builder);
        SensitivityCurves curves = new SensitivityCurves();
        for (ChannelGroup g : builder[0].prunable()) {
            double steepness = g.name().equals("conv1") ? 1.0 : 0.05;
            curves.add(g.name(), List.of(new Point(0.3, 0.3 * steepness), new Point(0.6, 0.6 * steepness),
                    new Point(0.9, 0.9 * steepness)));
        }
        RatioSolver.Solution s = solver.fromSensitivity(curves, 0.5, 0.01);
        assertEquals(0.5, s.reduction(), 0.005);
        assertTrue(s.ratios().get("conv1") < s.ratios().get("conv4"), s.ratios().toString());
    }

    @Test
    void dropsFollowTheCurvesRunningMaximum() {
        List<Point> curve = List.of(new Point(0.5, 0.04), new Point(0.25, 0.02), new Point(0.75, 0.01));
        assertEquals(0.01, RatioSolver.dropAt(curve, 0.125), 1e-12);
        assertEquals(0.03, RatioSolver.dropAt(curve, 0.375), 1e-12);
        assertEquals(0.04, RatioSolver.dropAt(curve, 0.75), 1e-12, "a lower drop further on does not undo the maximum");
    }

    /** Curves where conv1 and the last conv are steep, the rest shallow (drop = steepness * ratio). */
    private static SensitivityCurves curves(PlanBuilder builder, Map<String, Double> steepness) {
        SensitivityCurves curves = new SensitivityCurves();
        for (ChannelGroup g : builder.prunable()) {
            double k = steepness.getOrDefault(g.name(), 0.05);
            curves.add(g.name(), java.util.stream.IntStream.rangeClosed(1, 9)
                    .mapToObj(i -> new Point(i / 10.0, k * i / 10.0)).toList());
        }
        return curves;
    }

    private static double predictedDrop(SensitivityCurves curves, RatioSolver.Solution s) {
        return s.ratios().entrySet().stream().mapToDouble(e -> RatioSolver.dropAt(curves.curve(e.getKey()), e.getValue())).sum();
    }

    @ParameterizedTest
    @ValueSource(strings = {"vgg", "resnet20", "mobilenetv1", "mobilenetv2"})
    void greedyKeepsAllowedWidthsAndReachesTheTarget(String family) {
        ComputationGraph net = TestNetworks.zoo(family);
        PruningScope scope = new PruningScope(List.of("*"), List.of(), 16, 16);
        PlanBuilder[] builder = new PlanBuilder[1];
        RatioSolver solver = solver(net, scope, builder);
        RatioSolver.Solution s = solver.greedyFromSensitivity(curves(builder[0], Map.of()), 0.4, 0.01);
        assertEquals(0.4, s.reduction(), 0.004, family + " achieved " + s.reduction());
        for (PruningPlan.GroupPlan g : s.plan().groups()) {
            assertEquals(0, g.kept().length % 16, g.group() + " keeps " + g.kept().length);
        }
        long macs = ModelCost.of(Pruner.apply(net, s.plan()), TestNetworks.FASHION).macs();
        assertEquals(1 - s.reduction(), macs / (double) ModelCost.of(net, TestNetworks.FASHION).macs(), 1e-12);
    }

    @Test
    void greedySparesSensitiveGroupsAndPredictsLessDropThanAThreshold() {
        ComputationGraph net = TestNetworks.zoo("resnet20");
        PruningScope scope = new PruningScope(List.of("*"), List.of(), 16, 16);
        PlanBuilder[] builder = new PlanBuilder[1];
        RatioSolver solver = solver(net, scope, builder);
        SensitivityCurves curves = curves(builder[0],
                Map.of("stage3.block1.shortcut", 1.0, "stage2.block2.conv1", 0.5));
        RatioSolver.Solution greedy = solver.greedyFromSensitivity(curves, 0.45, 0.01);
        RatioSolver.Solution threshold = solver.fromSensitivity(curves, 0.45, 0.01);
        assertEquals(0.0, greedy.ratios().get("stage3.block1.shortcut"), 1e-12, greedy.ratios().toString());
        assertTrue(greedy.ratios().get("stage3.block2.conv1") > 0, greedy.ratios().toString());
        assertTrue(predictedDrop(curves, greedy) < predictedDrop(curves, threshold),
                "greedy " + predictedDrop(curves, greedy) + " vs threshold " + predictedDrop(curves, threshold));
    }

    @Test
    void greedyNeverPrunesPastTheMeasuredRatios() {
        ComputationGraph net = TestNetworks.zoo("vgg");
        PlanBuilder[] builder = new PlanBuilder[1];
        RatioSolver solver = solver(net, builder);
        SensitivityCurves curves = new SensitivityCurves();
        builder[0].prunable().forEach(g -> curves.add(g.name(), List.<Point>of(new Point(0.25, 0.0))));
        RatioSolver.Solution s = solver.greedyFromSensitivity(curves, 0.5, 0.01);
        s.ratios().values().forEach(r -> assertTrue(r <= 0.25 + 1e-9, s.ratios().toString()));
        assertTrue(s.reduction() < 0.5, "the target is out of reach: " + s.reduction());
    }

    /** resnet20 in 16-channel steps with its removable blocks as candidates, one curve point each. */
    private static SensitivityCurves blockCurves(PlanBuilder builder, Map<String, Double> blockDrops) {
        SensitivityCurves curves = curves(builder, Map.of());
        builder.removableBlocks().forEach(b -> curves.add(b.name(),
                List.<Point>of(new Point(1.0, blockDrops.getOrDefault(b.name(), 1.0)))));
        return curves;
    }

    @Test
    void greedyRemovesBlocksThatCostLessPerMacThanChannels() {
        ComputationGraph net = TestNetworks.zoo("resnet20");
        PruningScope scope = new PruningScope(List.of("*"), List.of(), 16, 16, true);
        PlanBuilder[] builder = new PlanBuilder[1];
        RatioSolver solver = solver(net, scope, builder);
        SensitivityCurves curves = blockCurves(builder[0],
                Map.of("stage1.block2.add", 0.001, "stage1.block3.add", 0.002));
        RatioSolver.Solution s = solver.greedyFromSensitivity(curves, 0.5, 0.01);
        assertEquals(List.of("stage1.block2.add", "stage1.block3.add"), s.plan().removedBlocks(), s.ratios().toString());
        assertEquals(0.5, s.reduction(), 0.005);
        assertTrue(s.plan().groups().stream().noneMatch(g -> g.group().startsWith("stage1.block2.")
                || g.group().startsWith("stage1.block3.")), "no group inside a removed block is narrowed");
        long macs = ModelCost.of(Pruner.apply(net, s.plan()), TestNetworks.FASHION).macs();
        assertEquals(1 - s.reduction(), macs / (double) ModelCost.of(net, TestNetworks.FASHION).macs(), 1e-12);

        RatioSolver.Solution threshold = solver.fromSensitivity(curves, 0.5, 0.01);
        assertEquals(List.of("stage1.block2.add", "stage1.block3.add"), threshold.plan().removedBlocks(),
                "a threshold above both blocks' drops removes them and no other block");
    }
}
