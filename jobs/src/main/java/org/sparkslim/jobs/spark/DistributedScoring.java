package org.sparkslim.jobs.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.train.ClassificationMetrics;
import org.sparkslim.jobs.tables.ImageTable;

/**
 * Scores a model on a Parquet split in parallel: image rows in, prediction rows out (id, label,
 * predicted, loss, confidence), each partition through the executor thread's scorer of the broadcast
 * model (DL4J, or ONNX Runtime on its export), a batch at a time.
 */
public final class DistributedScoring {
    public static final StructType PREDICTIONS = new StructType()
            .add("id", DataTypes.LongType, false)
            .add("label", DataTypes.IntegerType, false)
            .add("predicted", DataTypes.IntegerType, false)
            .add("loss", DataTypes.DoubleType, false)
            .add("confidence", DataTypes.DoubleType, false);

    private DistributedScoring() {
    }

    /** @param threadsPerTask native threads each task's forward passes use (1: one core per task) */
    public static Dataset<Row> predict(Dataset<Row> images, BroadcastModel model, BatchAssembler assembler,
                                       int batchSize, int threadsPerTask, ScoringEngine engine) {
        JavaRDD<Row> predictions = ExecutorWork.rows(images.select(ImageTable.ID, ImageTable.LABEL, ImageTable.IMAGE)
                .javaRDD(), threadsPerTask, rows -> {
                    Scorer scorer = model.scorer(engine, assembler.shape(), threadsPerTask);
                    return Chunks.flatMap(Chunks.of(rows, batchSize), batch -> score(scorer, batch, assembler));
                });
        return images.sparkSession().createDataFrame(predictions, PREDICTIONS);
    }

    private static List<Row> score(Scorer scorer, List<Row> batch, BatchAssembler assembler) {
        List<byte[]> images = new ArrayList<>(batch.size());
        for (Row r : batch) {
            images.add((byte[]) r.get(2));
        }
        float[][] p = scorer.outputs(assembler.features(images));
        List<Row> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            int label = batch.get(i).getInt(1);
            int predicted = ClassificationMetrics.argMax(p[i]);
            double loss = ClassificationMetrics.loss(label, p[i]);
            out.add(RowFactory.create(batch.get(i).getLong(0), label, predicted, loss, (double) p[i][predicted]));
        }
        return out;
    }
}
