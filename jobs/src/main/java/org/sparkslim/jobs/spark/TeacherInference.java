package org.sparkslim.jobs.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.SoftLabelsTable;

/**
 * A teacher's logits for a Parquet split, in parallel: image rows in, {@link SoftLabelsTable} rows
 * out, each partition through the executor thread's scorer of the broadcast logits network, a batch at
 * a time. Nothing reaches the driver.
 */
public final class TeacherInference {
    private TeacherInference() {
    }

    /** @param logits a network that answers with logits ({@code TeacherLogits.network()}) */
    public static Dataset<Row> logits(Dataset<Row> images, BroadcastModel logits, BatchAssembler assembler, int batchSize,
                                      int threadsPerTask, ScoringEngine engine) {
        JavaRDD<Row> rows = ExecutorWork.rows(images.select(ImageTable.ID, ImageTable.LABEL, ImageTable.IMAGE).javaRDD(),
                threadsPerTask, partition -> {
                    Scorer scorer = logits.scorer(engine, assembler.shape(), threadsPerTask);
                    return Chunks.flatMap(Chunks.of(partition, batchSize), batch -> {
                        List<byte[]> pixels = new ArrayList<>(batch.size());
                        batch.forEach(r -> pixels.add((byte[]) r.get(2)));
                        float[][] z = scorer.outputs(assembler.features(pixels));
                        List<Row> out = new ArrayList<>(batch.size());
                        for (int i = 0; i < batch.size(); i++) {
                            out.add(SoftLabelsTable.row(batch.get(i).getLong(0), batch.get(i).getInt(1), z[i]));
                        }
                        return out;
                    });
                });
        return images.sparkSession().createDataFrame(rows, SoftLabelsTable.TABLE.schema());
    }
}
