package org.sparkslim.jobs.pruning;

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
import org.sparkslim.compression.prune.Reconstruction;
import org.sparkslim.compression.prune.Restoration;
import org.sparkslim.compression.prune.UnsupportedVertexException;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.settings.ChannelSelection;
import org.sparkslim.jobs.settings.RestorationSettings;
import org.sparkslim.jobs.spark.ValidationImages;
import org.sparkslim.jobs.tables.ImageTable;

/**
 * What the {@code prune} section says about one network: its channel groups, their scores under
 * the configured criterion, and a plan builder limited to the configured scope.
 */
public record PruningSetup(ChannelGraph graph, PlanBuilder builder, Criterion criterion) {
    private static final Logger LOG = LoggerFactory.getLogger(PruningSetup.class);
    /** Images per forward pass while restoring the model a stage writes (statistics pool over all of them). */
    public static final int RESTORATION_BATCH = 250;

    /** The setup of a stage that chooses ratios: refuses a scope with no channel group in it. */
    public static PruningSetup of(ComputationGraph net, ChannelSelection selection) {
        PruningSetup setup = ignoringEmptyScope(net, selection);
        if (setup.builder().prunable().isEmpty()) {
            throw new ConfigException("prune.scope: no channel group is in scope; groups are "
                    + setup.graph().groups().stream()
                    .map(g -> g.name() + (g.prunable() ? "" : " (pinned: " + g.pinnedBy() + ")")).toList());
        }
        return setup;
    }

    /** The setup of a stage that replays a plan, which names its groups itself: any scope will do. */
    public static PruningSetup ignoringEmptyScope(ComputationGraph net, ChannelSelection selection) {
        ChannelGraph graph = channelGraph(net, selection.unsupported());
        Criterion criterion = selection.criterion();
        PlanBuilder builder = new PlanBuilder(graph, Importance.score(net, graph, criterion, selection.combine()),
                selection.scope(), criterion.configName());
        return new PruningSetup(graph, builder, criterion);
    }

    /** The network's channel groups, unknown vertices handled as {@code prune.unsupported-vertices} says. */
    public static ChannelGraph channelGraph(ComputationGraph net, ChannelGraph.Unsupported unsupported) {
        try {
            return ChannelGraph.of(net, unsupported);
        } catch (UnsupportedVertexException e) {
            throw new ConfigException("prune: " + e.getMessage(), e);
        }
    }

    /**
     * What {@code prune.reconstruction-images} and {@code prune.bn-recalibration-images} ask to be done
     * to each pruned model, on the first N train images by id; a stage that uses it must list
     * {@code prepare-data} among its inputs when {@link RestorationSettings#needsTrainImages} says so.
     *
     * @param batchSize images per forward pass
     */
    public static Restoration restoration(StageContext<?> ctx, RestorationSettings settings, BatchAssembler assembler,
                                   int batchSize) {
        int reconstruction = settings.reconstructionImages();
        int recalibration = settings.recalibrationImages();
        // both take the first N by id: one read of the larger count serves both
        LabeledImages images = trainImages(ctx, assembler, Math.max(reconstruction, recalibration));
        return new Restoration(firstOf(images, reconstruction), firstOf(images, recalibration), assembler, batchSize,
                settings.seed());
    }

    private static LabeledImages firstOf(LabeledImages images, int n) {
        return n == 0 ? null : images.slice(0, Math.min(n, images.size()));
    }

    private static LabeledImages trainImages(StageContext<?> ctx, BatchAssembler assembler, int n) {
        return n == 0 ? null : ValidationImages.firstN(ctx.spark(),
                ctx.input("prepare-data") + "/" + ImageTable.file("train"), assembler.shape(), n);
    }

    /** Applies {@code restoration} to a model about to be written, logging how close each refitted layer came. */
    public static void restore(Restoration restoration, ComputationGraph original, ComputationGraph pruned, PruningPlan plan,
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
    public static ToLongFunction<PruningPlan> macs(ComputationGraph net, ImageShape shape) {
        return plan -> ModelCost.of(Pruner.prunedConfiguration(net, plan), shape, 0).macs();
    }
}
