package org.sparkslim.jobs.spark;

import java.io.Serializable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelFiles;

/**
 * A model shipped once to every executor, as the bytes of its model file, and named by their hash.
 * Tasks ask for {@link #local()}: the executor thread's own deserialized copy ({@link ExecutorModels}),
 * which lives as long as the thread and is never shared with another.
 */
public final class BroadcastModel implements Serializable {
    private final Broadcast<byte[]> bytes;
    private final String hash;

    private BroadcastModel(Broadcast<byte[]> bytes, String hash) {
        this.bytes = bytes;
        this.hash = hash;
    }

    /** @param hash the SHA-256 of {@code bytes}, when the caller has it already (a checkpoint's models.parquet) */
    public static BroadcastModel of(SparkSession spark, byte[] bytes, String hash) {
        return new BroadcastModel(JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(bytes), hash);
    }

    public static BroadcastModel of(SparkSession spark, ComputationGraph net) {
        byte[] bytes = ModelFiles.toBytes(net);
        return of(spark, bytes, ModelFiles.sha256(bytes));
    }

    /** This executor thread's copy; never modify it (copy it first). */
    public ComputationGraph local() {
        return ExecutorModels.get(bytes, hash);
    }

    /**
     * This executor thread's copy for computing training steps: the model's layers, with parameters the
     * task must set before it uses them (another task of the thread may have changed them).
     */
    public ComputationGraph forTraining() {
        return ExecutorModels.forTraining(bytes, hash);
    }

    /** This executor thread's scorer of the model in {@code engine}, kept with its copy. */
    public Scorer scorer(ScoringEngine engine, ImageShape shape, int threads) {
        return ExecutorModels.scorer(bytes, hash, engine, shape, threads);
    }

    public String hash() {
        return hash;
    }
}
