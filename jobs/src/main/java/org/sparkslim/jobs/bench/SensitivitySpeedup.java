package org.sparkslim.jobs.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.ChannelGroup;
import org.sparkslim.compression.prune.Criterion;
import org.sparkslim.compression.prune.Importance;
import org.sparkslim.compression.prune.PlanBuilder;
import org.sparkslim.compression.prune.PruningScope;
import org.sparkslim.compression.prune.Restoration;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.ScoringEngine;
import org.sparkslim.jobs.spark.SensitivityAnalysis;

/** Wall time of the same sensitivity analysis on Spark masters with different core counts. */
public final class SensitivitySpeedup {
    private SensitivitySpeedup() {
    }

    public static List<SensitivityAnalysis.Task> tasks(ComputationGraph net, List<Double> ratios) {
        ChannelGraph graph = ChannelGraph.of(net);
        PlanBuilder builder = new PlanBuilder(graph, Importance.score(net, graph, Criterion.L1_NORM,
                Importance.Combine.MEAN), PruningScope.ALL, "l1_norm");
        List<SensitivityAnalysis.Task> tasks = new ArrayList<>();
        for (ChannelGroup g : builder.prunable()) {
            for (double r : ratios) {
                tasks.add(new SensitivityAnalysis.Task(g.name(), r, builder.plan(Map.of(g.name(), r))));
            }
        }
        return tasks;
    }

    /** Seconds for all {@code tasks} on a fresh session of {@code master}, after a short warm-up. */
    public static double seconds(String master, ComputationGraph net, List<SensitivityAnalysis.Task> tasks,
                                 LabeledImages val, BatchAssembler assembler, ScoringEngine engine) {
        SensitivityAnalysis.Scoring scoring = new SensitivityAnalysis.Scoring(val, Restoration.none(), assembler, 500, 1,
                engine);
        return MasterSession.seconds(master, "sparkslim-sensitivity-benchmark", spark -> {
            BroadcastModel model = BroadcastModel.of(spark, net);
            int cores = spark.sparkContext().defaultParallelism();
            SensitivityAnalysis.run(spark, model, tasks.subList(0, Math.min(cores, tasks.size())), scoring);
            return () -> SensitivityAnalysis.run(spark, model, tasks, scoring);
        });
    }
}
