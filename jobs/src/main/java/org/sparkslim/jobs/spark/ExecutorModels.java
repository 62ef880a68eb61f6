package org.sparkslim.jobs.spark;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.runtime.OneDnn;

/**
 * Deserialized copies of broadcast models, per executor thread. DL4J networks are not safe to share
 * between threads, and deserializing per task would dominate short tasks; a thread keeps the last few
 * models it was asked for (a task comparing two networks needs both).
 */
final class ExecutorModels {
    private static final int PER_THREAD = 3;

    private static final ThreadLocal<Map<String, ComputationGraph>> CACHE = ThreadLocal.withInitial(() ->
            new LinkedHashMap<>(4, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, ComputationGraph> eldest) {
                    return size() > PER_THREAD;
                }
            });

    private ExecutorModels() {
    }

    static ComputationGraph get(Broadcast<byte[]> model, String hash) {
        return CACHE.get().computeIfAbsent(hash, h -> {
            OneDnn.enable();
            return ModelFiles.fromBytes(model.value(), "broadcast model " + h);
        });
    }
}
