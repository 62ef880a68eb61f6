package org.sparkslim.jobs.spark;

import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.runtime.OneDnn;

/**
 * One deserialized copy of a broadcast model per executor thread. DL4J networks are not safe to share
 * between threads, and deserializing per task would dominate short tasks; a thread keeps its copy
 * until a task asks for another model.
 */
public final class ExecutorModels {
    private record Cached(String hash, ComputationGraph net) {
    }

    private static final ThreadLocal<Cached> CACHE = new ThreadLocal<>();

    private ExecutorModels() {
    }

    public static ComputationGraph get(Broadcast<byte[]> model, String hash) {
        Cached cached = CACHE.get();
        if (cached == null || !cached.hash().equals(hash)) {
            OneDnn.enable();
            cached = new Cached(hash, ModelFiles.fromBytes(model.value(), "broadcast model " + hash));
            CACHE.set(cached);
        }
        return cached.net();
    }
}
