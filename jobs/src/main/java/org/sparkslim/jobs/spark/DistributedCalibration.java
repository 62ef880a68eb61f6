package org.sparkslim.jobs.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.quant.ActivationStatistics;
import org.sparkslim.compression.quant.LayerError;
import org.sparkslim.compression.quant.QuantizationError;
import org.sparkslim.compression.runtime.NativeThreads;

/**
 * The two passes over calibration images that quantization needs, in parallel: each partition runs
 * its rows through the thread's copy of the broadcast model(s) and returns one mergeable partial
 * result; the driver merges the partials (a few histograms or sums per layer, never the images).
 */
public final class DistributedCalibration {
    private DistributedCalibration() {
    }

    /** Histograms and batch maxima of {@code tensors} in {@code model}. */
    public static ActivationStatistics statistics(Dataset<Row> images, ComputationGraph model, List<String> tensors, int bins,
                                                  BatchAssembler assembler, int batchSize, int threadsPerTask) {
        byte[] bytes = ModelFiles.toBytes(model);
        String hash = ModelFiles.sha256(bytes);
        Broadcast<byte[]> broadcast = broadcast(images, bytes);
        List<String> tracked = List.copyOf(tensors);
        return images.select(ImageTable.IMAGE).javaRDD().mapPartitions((Iterator<Row> rows) -> {
            NativeThreads.setForCurrentThread(threadsPerTask);
            ComputationGraph net = ExecutorModels.get(broadcast, hash);
            ActivationStatistics stats = new ActivationStatistics(tracked, bins);
            for (INDArray x : batches(rows, assembler, batchSize)) {
                stats.observe(net, x);
            }
            return List.of(stats).iterator();
        }).reduce(ActivationStatistics::merge);
    }

    /** Per-layer error of {@code quantized} against {@code reference}, in topological order. */
    public static List<LayerError> layerErrors(Dataset<Row> images, ComputationGraph reference, ComputationGraph quantized,
                                               BatchAssembler assembler, int batchSize, int threadsPerTask) {
        byte[] referenceBytes = ModelFiles.toBytes(reference);
        byte[] quantizedBytes = ModelFiles.toBytes(quantized);
        String referenceHash = ModelFiles.sha256(referenceBytes);
        String quantizedHash = ModelFiles.sha256(quantizedBytes);
        Broadcast<byte[]> referenceModel = broadcast(images, referenceBytes);
        Broadcast<byte[]> quantizedModel = broadcast(images, quantizedBytes);
        Map<String, LayerError> merged = images.select(ImageTable.IMAGE).javaRDD().mapPartitions((Iterator<Row> rows) -> {
            NativeThreads.setForCurrentThread(threadsPerTask);
            ComputationGraph f = ExecutorModels.get(referenceModel, referenceHash);
            ComputationGraph q = ExecutorModels.get(quantizedModel, quantizedHash);
            Map<String, LayerError> errors = new LinkedHashMap<>();
            for (INDArray x : batches(rows, assembler, batchSize)) {
                QuantizationError.measure(f, q, x).forEach((layer, e) -> errors.merge(layer, e, LayerError::merge));
            }
            return List.of(errors).iterator();
        }).reduce((a, b) -> {
            b.forEach((layer, e) -> a.merge(layer, e, LayerError::merge));
            return a;
        });
        return new ArrayList<>(merged.values());
    }

    private static Broadcast<byte[]> broadcast(Dataset<Row> images, byte[] bytes) {
        return JavaSparkContext.fromSparkContext(images.sparkSession().sparkContext()).broadcast(bytes);
    }

    /** The partition's images as batches of features, assembled as they are consumed. */
    private static Iterable<INDArray> batches(Iterator<Row> rows, BatchAssembler assembler, int batchSize) {
        return () -> new Iterator<>() {
            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public INDArray next() {
                List<byte[]> images = new ArrayList<>(batchSize);
                while (images.size() < batchSize && rows.hasNext()) {
                    images.add((byte[]) rows.next().get(0));
                }
                return assembler.features(images);
            }
        };
    }
}
