package org.sparkslim.compression.prune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.TestNetworks;

class RatioSolverTest {
    static RatioSolver solver(ComputationGraph net, PlanBuilder[] out) {
        ChannelGraph graph = ChannelGraph.of(net);
        PlanBuilder builder = new PlanBuilder(graph, Importance.score(net, graph, Criterion.L1_NORM,
                Importance.Combine.MEAN), PruningScope.ALL, "l1_norm");
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
    void interpolatesTheLargestRatioUnderTheThreshold() {
        List<double[]> curve = List.of(new double[] {0.2, 0.01}, new double[] {0.4, 0.03}, new double[] {0.6, 0.2});
        assertEquals(0.3, RatioSolver.ratioAt(curve, 0.02), 1e-12);
        assertEquals(0.1, RatioSolver.ratioAt(curve, 0.005), 1e-12);
        assertEquals(0.6, RatioSolver.ratioAt(curve, 0.5), 1e-12);
    }

    @Test
    void sensitiveGroupsArePrunedLess() {
        ComputationGraph net = TestNetworks.zoo("vgg");
        PlanBuilder[] builder = new PlanBuilder[1];
        RatioSolver solver = solver(net, builder);
        Map<String, List<double[]>> curves = new HashMap<>();
        for (ChannelGroup g : builder[0].prunable()) {
            double steepness = g.name().equals("conv1") ? 1.0 : 0.05;
            curves.put(g.name(), List.of(new double[] {0.3, 0.3 * steepness}, new double[] {0.6, 0.6 * steepness},
                    new double[] {0.9, 0.9 * steepness}));
        }
        RatioSolver.Solution s = solver.fromSensitivity(curves, 0.5, 0.01);
        assertEquals(0.5, s.reduction(), 0.005);
        assertTrue(s.ratios().get("conv1") < s.ratios().get("conv4"), s.ratios().toString());
    }
}
