package org.sparkslim.jobs.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.runtime.NativeThreads;
import org.sparkslim.compression.train.ClassificationMetrics;

/**
 * Scores a model on a Parquet split in parallel: the model is broadcast once as bytes, each executor
 * thread deserializes its own copy ({@link ExecutorModels}), and {@code mapPartitions} turns image
 * rows into prediction rows (id, label, predicted, loss, confidence).
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
    public static Dataset<Row> predict(SparkSession spark, Dataset<Row> images, byte[] model, String hash,
                                       BatchAssembler assembler, int batchSize, int threadsPerTask) {
        Broadcast<byte[]> broadcast = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(model);
        JavaRDD<Row> predictions = images.select(ImageTable.ID, ImageTable.LABEL, ImageTable.IMAGE).javaRDD()
                .mapPartitions(new PredictPartition(broadcast, hash, assembler, batchSize, threadsPerTask));
        return spark.createDataFrame(predictions, PREDICTIONS);
    }

    /** Runs one partition through the thread's copy of the model, a batch at a time. */
    static final class PredictPartition implements FlatMapFunction<Iterator<Row>, Row> {
        private final Broadcast<byte[]> model;
        private final String hash;
        private final BatchAssembler assembler;
        private final int batchSize;
        private final int threads;

        PredictPartition(Broadcast<byte[]> model, String hash, BatchAssembler assembler, int batchSize, int threads) {
            this.model = model;
            this.hash = hash;
            this.assembler = assembler;
            this.batchSize = batchSize;
            this.threads = threads;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            NativeThreads.setForCurrentThread(threads);
            ComputationGraph net = ExecutorModels.get(model, hash);
            return new Iterator<>() {
                private Iterator<Row> batch = List.<Row>of().iterator();

                @Override
                public boolean hasNext() {
                    if (!batch.hasNext() && rows.hasNext()) {
                        batch = score(net, rows).iterator();
                    }
                    return batch.hasNext();
                }

                @Override
                public Row next() {
                    hasNext();
                    return batch.next();
                }
            };
        }

        private List<Row> score(ComputationGraph net, Iterator<Row> rows) {
            List<Long> ids = new ArrayList<>(batchSize);
            List<Integer> labels = new ArrayList<>(batchSize);
            List<byte[]> images = new ArrayList<>(batchSize);
            while (images.size() < batchSize && rows.hasNext()) {
                Row r = rows.next();
                ids.add(r.getLong(0));
                labels.add(r.getInt(1));
                images.add((byte[]) r.get(2));
            }
            float[][] p = net.outputSingle(false, assembler.features(images)).toFloatMatrix();
            List<Row> out = new ArrayList<>(images.size());
            for (int i = 0; i < images.size(); i++) {
                int label = labels.get(i);
                int predicted = ClassificationMetrics.argMax(p[i]);
                double loss = ClassificationMetrics.loss(label, p[i]);
                out.add(RowFactory.create(ids.get(i), label, predicted, loss, (double) p[i][predicted]));
            }
            return out;
        }
    }
}
