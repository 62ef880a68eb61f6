package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import java.util.function.ToLongFunction;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.Criterion;
import org.sparkslim.compression.prune.Importance;
import org.sparkslim.compression.prune.PlanBuilder;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.PruningScope;
import org.sparkslim.compression.prune.UnsupportedVertexException;
import org.sparkslim.compression.train.BatchNormRecalibration;
import org.sparkslim.compression.train.InMemoryBatchSource;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ValidationImages;

/**
 * What the {@code prune} section says about one network: its channel groups, their scores under
 * the configured criterion, and a plan builder limited to the configured scope.
 */
record PruningSetup(ChannelGraph graph, PlanBuilder builder, Criterion criterion) {
    /** Images per training-mode forward pass while recalibrating; statistics pool over all of them. */
    static final int RECALIBRATION_BATCH = 250;

    static PruningSetup of(ComputationGraph net, Config c) {
        Criterion criterion;
        Importance.Combine combine;
        try {
            criterion = Criterion.parse(c.getString("prune.criterion"));
            combine = Importance.Combine.parse(c.getString("prune.combine"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("prune: " + e.getMessage(), e);
        }
        ChannelGraph graph = channelGraph(net, c);
        PruningScope scope = new PruningScope(c.getStringList("prune.scope.match"),
                c.getStringList("prune.scope.exclude"), c.getInt("prune.scope.min-channels"),
                c.getInt("prune.scope.round-to"), c.getBoolean("prune.scope.remove-blocks"));
        PlanBuilder builder = new PlanBuilder(graph, Importance.score(net, graph, criterion, combine), scope,
                criterion.configName());
        if (builder.prunable().isEmpty()) {
            throw new ConfigException("prune.scope: no channel group is in scope; groups are "
                    + graph.groups().stream().map(g -> g.name() + (g.prunable() ? "" : " (pinned: " + g.pinnedBy() + ")")).toList());
        }
        return new PruningSetup(graph, builder, criterion);
    }

    /** The network's channel groups, unknown vertices handled as {@code prune.unsupported-vertices} says. */
    static ChannelGraph channelGraph(ComputationGraph net, Config c) {
        try {
            return ChannelGraph.of(net,
                    ChannelGraph.Unsupported.valueOf(c.getString("prune.unsupported-vertices").toUpperCase()));
        } catch (IllegalArgumentException | UnsupportedVertexException e) {
            throw new ConfigException("prune: " + e.getMessage(), e);
        }
    }

    /**
     * The train images {@code prune.bn-recalibration-images} asks for (the first N by id), or null
     * when recalibration is off; the stage must list {@code prepare-data} among its inputs.
     */
    static LabeledImages recalibrationImages(StageContext ctx, BatchAssembler assembler) {
        int n = recalibrationImageCount(ctx.config());
        return n == 0 ? null : ValidationImages.firstN(ctx.spark(),
                ctx.input("prepare-data") + "/" + ImageTable.file("train"), assembler.shape(), n);
    }

    static int recalibrationImageCount(Config c) {
        int n = c.getInt("prune.bn-recalibration-images");
        if (n < 0) {
            throw new ConfigException("prune.bn-recalibration-images must be 0 (off) or a positive image count, got "
                    + n);
        }
        return n;
    }

    /** Recalibrates {@code net}'s batch norms on {@code images} (a no-op when null). */
    static void recalibrate(ComputationGraph net, LabeledImages images, BatchAssembler assembler) {
        if (images != null) {
            BatchNormRecalibration.recalibrate(net,
                    InMemoryBatchSource.forEvaluation(images, assembler, RECALIBRATION_BATCH));
        }
    }

    /** MACs of the network a plan would produce, computed from configurations alone. */
    static ToLongFunction<PruningPlan> macs(ComputationGraph net, ImageShape shape) {
        return plan -> ModelCost.of(Pruner.prunedConfiguration(net, plan), shape, 0).macs();
    }
}
