package org.sparkslim.jobs.spark;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.runtime.FusedBatchNorm;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.compression.runtime.OnePassReLU6;

/**
 * Deserialized copies of broadcast models, and their scorers, per executor thread. DL4J networks are
 * not safe to share between threads, and deserializing (or exporting) per task would dominate short
 * tasks; a thread keeps the last few models it was asked for (a task comparing two networks needs both).
 */
final class ExecutorModels {
    private static final int PER_THREAD = 3;

    private static final ThreadLocal<Map<String, ComputationGraph>> CACHE = ThreadLocal.withInitial(() ->
            recentlyUsed(net -> { }));
    private static final ThreadLocal<Map<String, ComputationGraph>> TRAINING = ThreadLocal.withInitial(() ->
            recentlyUsed(net -> { }));
    private static final ThreadLocal<Map<String, Scorer>> SCORERS = ThreadLocal.withInitial(() ->
            recentlyUsed(Scorer::close));

    private ExecutorModels() {
    }

    /** The last {@link #PER_THREAD} values used; {@code evict} releases one that falls out. */
    private static <V> Map<String, V> recentlyUsed(Consumer<V> evict) {
        return new LinkedHashMap<>(4, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                if (size() > PER_THREAD) {
                    evict.accept(eldest.getValue());
                    return true;
                }
                return false;
            }
        };
    }

    static Scorer scorer(Broadcast<byte[]> model, String hash, ScoringEngine engine, ImageShape shape, int threads) {
        return SCORERS.get().computeIfAbsent(hash + "/" + engine + "/" + threads,
                k -> Scorer.open(get(model, hash), engine, shape, threads));
    }

    /**
     * A copy of its own for tasks that set its parameters before every use, kept apart from the copies
     * tasks only read; it trains through the fused batch normalization and one-pass ReLU6, as in the driver.
     */
    static ComputationGraph forTraining(Broadcast<byte[]> model, String hash) {
        return TRAINING.get().computeIfAbsent(hash, h -> {
            ComputationGraph net = deserialize(model, h);
            FusedBatchNorm.installOn(net);
            // the copy lives as long as the thread: the switched activations are never switched back
            OnePassReLU6.installOn(net);
            return net;
        });
    }

    static ComputationGraph get(Broadcast<byte[]> model, String hash) {
        return CACHE.get().computeIfAbsent(hash, h -> deserialize(model, h));
    }

    private static ComputationGraph deserialize(Broadcast<byte[]> model, String hash) {
        OneDnn.enable();
        return ModelFiles.fromBytes(model.value(), "broadcast model " + hash);
    }
}
