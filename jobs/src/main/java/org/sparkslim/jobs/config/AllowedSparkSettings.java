package org.sparkslim.jobs.config;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.sparkslim.compression.util.Suggestions;

/**
 * What a config file may tell Spark. A config travels further than a launch script (it is edited by
 * many hands, layered, overridden with {@code --set}), so no value in it may make the job load a
 * class, add code or run a command: the Spark settings it passes on are listed here by name, each a
 * size, count, switch, duration, path or thread count, and the master is one of Spark's own kinds.
 * Listeners, plugins, serializers, extra jars, Java options and environments belong on the
 * spark-submit line, which the cluster's operator controls.
 */
public final class AllowedSparkSettings {
    /** Settings under {@code spark.conf}, by exact name. */
    static final Set<String> NAMES = Set.copyOf(new TreeSet<>(List.of(
            "spark.ui.enabled", "spark.ui.port", "spark.ui.showConsoleProgress", "spark.ui.retainedJobs",
            "spark.ui.retainedStages",
            "spark.driver.memory", "spark.driver.cores", "spark.driver.maxResultSize", "spark.driver.memoryOverhead",
            "spark.executor.memory", "spark.executor.cores", "spark.executor.instances",
            "spark.executor.memoryOverhead", "spark.executor.heartbeatInterval",
            "spark.memory.fraction", "spark.memory.storageFraction", "spark.memory.offHeap.enabled",
            "spark.memory.offHeap.size",
            "spark.task.cpus", "spark.task.maxFailures", "spark.stage.maxConsecutiveAttempts",
            "spark.default.parallelism", "spark.sql.shuffle.partitions", "spark.sql.files.maxPartitionBytes",
            "spark.sql.parquet.compression.codec", "spark.sql.adaptive.enabled",
            "spark.network.timeout", "spark.rpc.message.maxSize", "spark.locality.wait",
            "spark.speculation", "spark.excludeOnFailure.enabled", "spark.local.dir",
            "spark.kryoserializer.buffer.max",
            "spark.eventLog.enabled", "spark.eventLog.dir", "spark.eventLog.compress",
            "spark.dynamicAllocation.enabled", "spark.dynamicAllocation.minExecutors",
            "spark.dynamicAllocation.maxExecutors", "spark.dynamicAllocation.initialExecutors",
            "spark.dynamicAllocation.executorIdleTimeout", "spark.shuffle.service.enabled",
            "spark.yarn.queue", "spark.yarn.maxAppAttempts", "spark.yarn.tags",
            // thread counts of the native libraries, the only environment a config may set
            "spark.executorEnv.OMP_NUM_THREADS", "spark.executorEnv.MKL_NUM_THREADS",
            "spark.executorEnv.OPENBLAS_NUM_THREADS", "spark.yarn.appMasterEnv.OMP_NUM_THREADS")));

    /** local, local[4], local[*], local[4,2], yarn, spark://host:port, k8s://https://host:port */
    private static final Pattern MASTER = Pattern.compile(
            "local(\\[(\\*|\\d+)(,\\d+)?])?|yarn|spark://[\\w.\\-]+(:\\d+)?(,[\\w.\\-]+(:\\d+)?)*|k8s://\\S+");

    private AllowedSparkSettings() {
    }

    /** Null when {@code spark.conf}'s {@code name} may be passed on, else why not. */
    static String settingFault(String name) {
        if (NAMES.contains(name)) {
            return null;
        }
        return "Spark setting \"" + name + "\" is not one a config may pass on" + Suggestions.didYouMean(name, NAMES)
                + "; settings that can load classes, add jars, set Java options or environments go on the"
                + " spark-submit line (docs/OPERATIONS.md lists those a config may set)";
    }

    /** Null when {@code master} is one of Spark's own kinds of master, else why not. */
    static String masterFault(String master) {
        return MASTER.matcher(master).matches() ? null
                : "\"" + master + "\" is not a Spark master SparkSlim runs on (local, local[N], local[*], yarn,"
                        + " spark://host:port or k8s://...)";
    }

    /** The names, sorted, for help and documentation. */
    public static List<String> names() {
        return List.copyOf(new TreeSet<>(NAMES));
    }
}
