package org.sparkslim.compression.prune;

import java.io.Serializable;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.train.BatchNormRecalibration;
import org.sparkslim.compression.train.InMemoryBatchSource;

/**
 * What is done to a freshly pruned network before it is scored or kept: the layers that read removed
 * channels refitted to the original's outputs ({@link Reconstruction}), then every batch norm's
 * statistics re-estimated ({@link BatchNormRecalibration}); each step only when it has images. The
 * same for every sensitivity variant and for the model the prune stage writes, so that the ratios
 * are chosen on what the written model will be. Only the batch size may differ (the callers pick
 * it): recalibration runs in training mode, where each pass normalizes by its own batch statistics,
 * so another batch size gives slightly other statistics.
 *
 * @param reconstruction images for {@link Reconstruction}, or null to keep the sliced weights
 * @param recalibration  images for {@link BatchNormRecalibration}, or null to keep the statistics
 * @param batchSize      images per forward pass
 * @param seed           for the pixel positions reconstruction samples
 */
public record Restoration(LabeledImages reconstruction, LabeledImages recalibration, BatchAssembler assembler,
                          int batchSize, long seed) implements Serializable {
    /** Score and keep pruned networks as sliced. */
    public static Restoration none() {
        return new Restoration(null, null, null, 0, 0);
    }

    public boolean isEmpty() {
        return reconstruction == null && recalibration == null;
    }

    public Restoration withBatchSize(int images) {
        return new Restoration(reconstruction, recalibration, assembler, images, seed);
    }

    /**
     * Restores {@code pruned} in place.
     *
     * @param original the network the plan was applied to
     * @param graph    {@code original}'s channel graph
     * @return the reconstruction's fits, or null when reconstruction is off
     */
    public Reconstruction.Result apply(ComputationGraph original, ComputationGraph pruned, PruningPlan plan,
                                       ChannelGraph graph) {
        Reconstruction.Result fits = reconstruction == null ? null : Reconstruction.refit(original, pruned, plan,
                graph, InMemoryBatchSource.forEvaluation(reconstruction, assembler, batchSize), seed);
        if (recalibration != null) {
            BatchNormRecalibration.recalibrate(pruned, InMemoryBatchSource.forEvaluation(recalibration, assembler,
                    batchSize));
        }
        return fits;
    }
}
