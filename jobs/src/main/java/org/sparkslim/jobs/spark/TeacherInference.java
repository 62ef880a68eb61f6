package org.sparkslim.jobs.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.distill.FeatureTarget;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.SoftLabelsTable;

/**
 * A teacher's logits, and maybe feature targets, for a Parquet split, in parallel: image rows in,
 * {@link SoftLabelsTable} rows out, each partition through the executor thread's copy of the
 * broadcast teacher, a batch at a time. Nothing reaches the driver.
 */
public final class TeacherInference {
    private TeacherInference() {
    }

    /**
     * @param teacher  a network that answers with logits ({@code TeacherLogits.network()}); with
     *                 {@code features}, one that taps their layers ({@code TeacherLogits.tapping})
     * @param features the feature targets to store, in order; when there are any the teacher runs in
     *                 DL4J, whose layers can be read, whatever {@code engine} says
     */
    public static Dataset<Row> logits(Dataset<Row> images, BroadcastModel teacher, List<FeatureTarget> features,
                                      BatchAssembler assembler, int batchSize, int threadsPerTask, ScoringEngine engine) {
        JavaRDD<Row> rows = ExecutorWork.rows(images.select(ImageTable.ID, ImageTable.LABEL, ImageTable.IMAGE).javaRDD(),
                threadsPerTask, partition -> {
                    Scorer scorer = features.isEmpty() ? teacher.scorer(engine, assembler.shape(), threadsPerTask) : null;
                    return Chunks.flatMap(Chunks.of(partition, batchSize), batch -> {
                        List<byte[]> pixels = new ArrayList<>(batch.size());
                        batch.forEach(r -> pixels.add((byte[]) r.get(2)));
                        INDArray x = assembler.features(pixels);
                        float[][] z;
                        float[][][] targets = new float[features.size()][][];
                        if (scorer != null) {
                            z = scorer.outputs(x);
                        } else {
                            ComputationGraph net = teacher.local();
                            Map<String, INDArray> activations = net.feedForward(x, false);
                            z = floats(activations.get(net.getConfiguration().getNetworkOutputs().get(0)));
                            for (int t = 0; t < targets.length; t++) {
                                targets[t] = floats(features.get(t).of(activations));
                            }
                        }
                        List<Row> out = new ArrayList<>(batch.size());
                        for (int i = 0; i < batch.size(); i++) {
                            float[][] stored = new float[targets.length][];
                            for (int t = 0; t < targets.length; t++) {
                                stored[t] = targets[t][i];
                            }
                            out.add(SoftLabelsTable.row(batch.get(i).getLong(0), batch.get(i).getInt(1), z[i], stored));
                        }
                        return out;
                    });
                });
        return images.sparkSession().createDataFrame(rows, SoftLabelsTable.TABLE.schema());
    }

    private static float[][] floats(INDArray rows) {
        return rows.castTo(DataType.FLOAT).toFloatMatrix();
    }
}
