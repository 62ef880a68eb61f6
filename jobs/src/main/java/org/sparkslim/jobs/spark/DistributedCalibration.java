package org.sparkslim.jobs.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.quant.ActivationStatistics;
import org.sparkslim.compression.quant.LayerError;
import org.sparkslim.compression.quant.LayerErrors;
import org.sparkslim.jobs.tables.ImageTable;

/**
 * The two passes over calibration images that quantization needs, in parallel: each partition runs
 * its rows through the thread's copy of the broadcast model(s) and returns one mergeable partial
 * result; the driver merges the partials (a few histograms or sums per layer, never the images).
 */
public final class DistributedCalibration {
    private DistributedCalibration() {
    }

    /** Histograms and batch maxima of {@code tensors} in {@code model}. */
    public static ActivationStatistics statistics(Dataset<Row> images, ComputationGraph model, List<String> tensors,
                                                  int bins, BatchAssembler assembler, int batchSize, int threadsPerTask) {
        BroadcastModel broadcast = BroadcastModel.of(images.sparkSession(), model);
        List<String> tracked = List.copyOf(tensors);
        return ExecutorWork.merged(imageColumn(images), threadsPerTask, rows -> {
            ComputationGraph net = broadcast.local();
            ActivationStatistics stats = new ActivationStatistics(tracked, bins);
            features(rows, assembler, batchSize).forEachRemaining(x -> stats.observe(net, x));
            return stats;
        });
    }

    /** Per-layer error of {@code quantized} against {@code reference}, in topological order. */
    public static List<LayerError> layerErrors(Dataset<Row> images, ComputationGraph reference, ComputationGraph quantized,
                                               BatchAssembler assembler, int batchSize, int threadsPerTask) {
        BroadcastModel floatModel = BroadcastModel.of(images.sparkSession(), reference);
        BroadcastModel quantizedModel = BroadcastModel.of(images.sparkSession(), quantized);
        return ExecutorWork.merged(imageColumn(images), threadsPerTask, rows -> {
            ComputationGraph f = floatModel.local();
            ComputationGraph q = quantizedModel.local();
            LayerErrors errors = new LayerErrors();
            features(rows, assembler, batchSize).forEachRemaining(x -> errors.observe(f, q, x));
            return errors;
        }).list();
    }

    private static JavaRDD<byte[]> imageColumn(Dataset<Row> images) {
        return images.select(ImageTable.IMAGE).javaRDD().map(r -> (byte[]) r.get(0));
    }

    /** The partition's images as batches of features, assembled as they are consumed. */
    private static Iterator<INDArray> features(Iterator<byte[]> images, BatchAssembler assembler, int batchSize) {
        Iterator<List<byte[]>> chunks = Chunks.of(images, batchSize);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return chunks.hasNext();
            }

            @Override
            public INDArray next() {
                return assembler.features(new ArrayList<>(chunks.next()));
            }
        };
    }
}
