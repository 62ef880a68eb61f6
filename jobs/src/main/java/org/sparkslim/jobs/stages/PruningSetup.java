package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import java.util.function.ToLongFunction;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
import org.sparkslim.compression.prune.Reconstruction;
import org.sparkslim.compression.prune.Restoration;
import org.sparkslim.compression.prune.UnsupportedVertexException;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ValidationImages;

/**
 * What the {@code prune} section says about one network: its channel groups, their scores under
 * the configured criterion, and a plan builder limited to the configured scope.
 */
record PruningSetup(ChannelGraph graph, PlanBuilder builder, Criterion criterion) {
    private static final Logger LOG = LoggerFactory.getLogger(PruningSetup.class);
    /** Images per forward pass while restoring the model a stage writes (statistics pool over all of them). */
    static final int RESTORATION_BATCH = 250;

    /** The setup of a stage that chooses ratios: refuses a scope with no channel group in it. */
    static PruningSetup of(ComputationGraph net, Config c) {
        PruningSetup setup = ignoringEmptyScope(net, c);
        if (setup.builder().prunable().isEmpty()) {
            throw new ConfigException("prune.scope: no channel group is in scope; groups are "
                    + setup.graph().groups().stream()
                    .map(g -> g.name() + (g.prunable() ? "" : " (pinned: " + g.pinnedBy() + ")")).toList());
        }
        return setup;
    }

    /** The setup of a stage that replays a plan, which names its groups itself: any scope will do. */
    static PruningSetup ignoringEmptyScope(ComputationGraph net, Config c) {
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
     * What {@code prune.reconstruction-images} and {@code prune.bn-recalibration-images} ask to be done
     * to each pruned model, on the first N train images by id; a stage that uses it must list
     * {@code prepare-data} among its inputs when {@link #needsTrainImages} says so.
     *
     * @param batchSize images per forward pass
     */
    static Restoration restoration(StageContext ctx, BatchAssembler assembler, int batchSize) {
        Config c = ctx.config();
        int reconstruction = reconstructionImageCount(c);
        int recalibration = recalibrationImageCount(c);
        // both take the first N by id: one read of the larger count serves both
        LabeledImages images = trainImages(ctx, assembler, Math.max(reconstruction, recalibration));
        return new Restoration(firstOf(images, reconstruction), firstOf(images, recalibration), assembler, batchSize,
                c.getLong("run.seed"));
    }

    private static LabeledImages firstOf(LabeledImages images, int n) {
        return n == 0 ? null : images.slice(0, Math.min(n, images.size()));
    }

    static int recalibrationImageCount(Config c) {
        return imageCount(c, "prune.bn-recalibration-images");
    }

    static int reconstructionImageCount(Config c) {
        return imageCount(c, "prune.reconstruction-images");
    }

    /** Whether pruning reads train images (for reconstruction or recalibration). */
    static boolean needsTrainImages(Config c) {
        return recalibrationImageCount(c) > 0 || reconstructionImageCount(c) > 0;
    }

    private static int imageCount(Config c, String key) {
        int n = c.getInt(key);
        if (n < 0) {
            throw new ConfigException(key + " must be 0 (off) or a positive image count, got " + n);
        }
        return n;
    }

    private static LabeledImages trainImages(StageContext ctx, BatchAssembler assembler, int n) {
        return n == 0 ? null : ValidationImages.firstN(ctx.spark(),
                ctx.input("prepare-data") + "/" + ImageTable.file("train"), assembler.shape(), n);
    }

    /** Applies {@code restoration} to a model about to be written, logging how close each refitted layer came. */
    static void restore(Restoration restoration, ComputationGraph original, ComputationGraph pruned, PruningPlan plan,
                        ChannelGraph graph) {
        Reconstruction.Result result = restoration.apply(original, pruned, plan, graph);
        if (result == null) {
            return;
        }
        result.fits().forEach(f -> LOG.info(String.format(
                "reconstruction: %s refitted on %,d samples (ridge %.0e), error relative to its outputs' variance"
                        + " %.4f -> %.4f", f.layer(), f.samples(), f.ridge(), f.errorBefore(), f.errorAfter())));
        result.skipped().forEach((layer, why) -> LOG.info("reconstruction: " + layer + " keeps its sliced weights: " + why));
    }

    /** MACs of the network a plan would produce, computed from configurations alone. */
    static ToLongFunction<PruningPlan> macs(ComputationGraph net, ImageShape shape) {
        return plan -> ModelCost.of(Pruner.prunedConfiguration(net, plan), shape, 0).macs();
    }
}
