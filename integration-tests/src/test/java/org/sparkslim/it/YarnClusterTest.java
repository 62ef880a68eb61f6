package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.apache.hadoop.yarn.api.records.NodeReport;
import org.apache.hadoop.yarn.api.records.NodeState;
import org.apache.hadoop.yarn.client.api.YarnClient;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run submitted to YARN as users submit it: {@code submit-scripts/spark-submit-yarn.sh} with the
 * application jar it builds, a Spark installation laid out as a distribution (its jars, and Spark's
 * own launcher behind {@code bin/spark-submit}), and a YARN and HDFS minicluster started in this JVM.
 * The run directory is on HDFS; the driver runs in a YARN container (cluster mode) and on this
 * machine (client mode); executors get their JVM flags from the launcher script alone.
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class YarnClusterTest {
    static final Path SCRIPT = Path.of("..", "submit-scripts", "spark-submit-yarn.sh").toAbsolutePath().normalize();
    static final List<String> STAGES = List.of("prepare-data", "train", "evaluate");

    /** What a Spark distribution does not hold: this project, its libraries (in the application jar), tests. */
    static final List<String> NOT_SPARK = List.of("/org/sparkslim/", "/org/deeplearning4j/", "/org/nd4j/",
            "/org/bytedeco/", "/org/datavec/", "/de/javakaffee/", "/com/microsoft/onnxruntime/", "/org/knowm/", "/org/commonmark/", "/info/picocli/",
            "/com/typesafe/config/", "/org/seleniumhq/", "/io/opentelemetry/", "/org/junit/", "/junit/",
            "/hadoop-client-minicluster/", "/target/");

    @TempDir
    static Path dir;
    static MiniDFSCluster hdfs;
    static MiniYARNCluster yarn;
    static Path hadoopConf;
    static Path sparkHome;
    static String runDir;

    @BeforeAll
    static void startCluster() throws Exception {
        TestPipeline.requireFashionMnist();
        Configuration conf = new YarnConfiguration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.resolve("hdfs").toString());
        conf.setInt(YarnConfiguration.YARN_MINICLUSTER_NM_PMEM_MB, 12 * 1024);
        conf.setInt(YarnConfiguration.NM_VCORES, 8);
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 256);
        conf.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB, 8 * 1024);
        conf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
        conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
        conf.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 99.9f);
        conf.set("yarn.scheduler.capacity.root.queues", "default");
        conf.set("yarn.scheduler.capacity.root.default.capacity", "100");
        // as a cluster's yarn-env.sh does: containers find Java
        conf.set(YarnConfiguration.NM_ADMIN_USER_ENV, "JAVA_HOME=" + System.getProperty("java.home"));
        hdfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
        hdfs.waitActive();
        yarn = new MiniYARNCluster("sparkslim-yarn", 1, 1, 1);
        yarn.init(conf);
        yarn.start();
        try (YarnClient client = YarnClient.createYarnClient()) {
            client.init(yarn.getConfig());
            client.start();
            List<NodeReport> nodes = client.getNodeReports(NodeState.RUNNING);
            assertEquals(1, nodes.size(), "a running node manager: " + client.getNodeReports());
            System.err.println("YARN node: " + nodes.get(0).getCapability() + " " + nodes.get(0).getHealthReport());
        }

        hadoopConf = Files.createDirectories(dir.resolve("hadoop-conf"));
        // what a cluster gives its clients: the file system and the resource manager's addresses
        Configuration client = new Configuration(false);
        client.set("fs.defaultFS", hdfs.getFileSystem().getUri().toString());
        for (Map.Entry<String, String> e : yarn.getConfig()) {
            if (e.getKey().startsWith("yarn.resourcemanager.") && e.getKey().endsWith("address")) {
                client.set(e.getKey(), yarn.getConfig().get(e.getKey()));
            }
        }
        for (String file : List.of("core-site.xml", "yarn-site.xml")) {
            try (OutputStream out = Files.newOutputStream(hadoopConf.resolve(file))) {
                client.writeXml(out);
            }
        }
        sparkHome = sparkDistribution();
        runDir = hdfs.getFileSystem().getUri() + "/sparkslim/runs/yarn";
    }

    @AfterAll
    static void stopCluster() {
        if (yarn != null) {
            yarn.stop();
        }
        if (hdfs != null) {
            hdfs.shutdown();
        }
    }

    @Test
    @Order(1)
    void aRunSubmittedInClusterModeWritesItsCheckpointsToHdfs() throws Exception {
        Submission run = submit("cluster", runDir, "cluster");
        assertEquals(0, run.code(), run.output());
        for (String stage : STAGES) {
            assertTrue(exists(runDir + "/" + stage + "/_SUCCESS"), stage);
        }
        for (String split : List.of("train", "val", "test")) {
            assertTrue(exists(runDir + "/prepare-data/" + split + ".parquet/_SUCCESS"), split);
        }
        assertTrue(hdfs.getFileSystem().getFileStatus(hdfsPath(runDir + "/train/model.zip")).getLen() > 10_000);
        assertTrue(exists(runDir + "/evaluate/metrics.parquet/_SUCCESS"));
        FileStatus[] unfinished = exists(runDir + "/.tmp") ? hdfs.getFileSystem().listStatus(hdfsPath(runDir + "/.tmp"))
                : new FileStatus[0];
        assertEquals(0, unfinished.length, "every stage moved its checkpoint into place: " + List.of(unfinished));
        String driverLog = containerLogs("Pipeline: [3/3] evaluate: done");
        assertTrue(driverLog.contains("run directory " + runDir), "the driver ran in a container: " + driverLog);
    }

    @Test
    @Order(2)
    void aSecondSubmissionInClientModeSkipsEveryStage() throws Exception {
        Map<String, Long> written = successTimes(runDir);
        Submission again = submit("client", runDir, "client");
        assertEquals(0, again.code(), again.output());
        for (String stage : STAGES) {
            assertTrue(again.output().contains(stage + ": checkpoint is up to date, skipped"),
                    stage + ": " + again.output());
        }
        assertEquals(written, successTimes(runDir), "no checkpoint was written again");
    }

    /**
     * The same run in another directory: its driver (client mode, the launcher's own process) killed
     * once the first epoch's state is on HDFS, then the next submission, whose executor is killed in
     * the middle of a task of evaluation. It resumes training, Spark runs the lost work again, and
     * the run ends with the uninterrupted run's model and metrics.
     */
    @Test
    @Order(3)
    void aKilledDriverAndALostExecutorEndWithTheUninterruptedRunsResults() throws Exception {
        String faults = hdfs.getFileSystem().getUri() + "/sparkslim/runs/yarn-faults";
        Started killed = start("client", faults, "killed-driver");
        String firstEpoch = faults + "/.resume/train/*/*/epoch-1.state";
        awaitOrEnd(killed, () -> hdfs.getFileSystem().globStatus(hdfsPath(firstEpoch)).length > 0);
        assertTrue(killed.process().isAlive(), "the driver was still training: " + Files.readString(killed.log()));
        killed.process().destroyForcibly().waitFor();
        assertFalse(exists(faults + "/train/_SUCCESS"), "nothing of train was committed");

        Started resumed = start("client", faults, "resumed");
        awaitOrEnd(resumed, () -> Files.readString(resumed.log()).contains("evaluate: running"));
        String application = applicationId(Files.readString(resumed.log()));
        Path busy = null;
        while (busy == null && resumed.process().isAlive()) {
            busy = executorRunningALongTask(application);
        }
        assertTrue(busy != null, "an executor was scoring when the run ended: " + Files.readString(resumed.log()));
        String container = busy.getParent().getFileName().toString(); // its log directory is named after it
        ProcessHandle executor = executorJvm(container);
        executor.destroyForcibly();
        executor.onExit().get(1, TimeUnit.MINUTES);
        assertTrue(resumed.process().waitFor(15, TimeUnit.MINUTES), "the resumed submission ended");
        String log = Files.readString(resumed.log());
        assertEquals(0, resumed.process().exitValue(), log);
        assertTrue(log.contains("is no longer running"), "the killed driver's lock is taken over: " + log);
        assertTrue(log.contains("resuming after epoch 1/3"), log);
        assertTrue(log.contains("Lost executor") && log.contains("ExecutorLostFailure"),
                "Spark saw the executor go in the middle of a task, and ran the task again: " + log);

        SparkSession spark = TestPipeline.localSpark("yarn-faults-check");
        try {
            assertEquals(table(spark, runDir + "/train/models.parquet", "sha256"),
                    table(spark, faults + "/train/models.parquet", "sha256"), "the same model, bit for bit");
            assertEquals(table(spark, runDir + "/evaluate/metrics.parquet", "stage, top1, loss"),
                    table(spark, faults + "/evaluate/metrics.parquet", "stage, top1, loss"), "the same scores");
        } finally {
            spark.stop();
        }
    }

    /**
     * Training in the executors, each in its own JVM and YARN container, by parameter averaging: the
     * driver averages the two executors' copies after every round.
     */
    @Test
    @Order(4)
    void parameterAveragingTrainsInTheExecutors() throws Exception {
        trainsInTheExecutors("parameter-averaging", "averaged",
                "train: epoch 2 took 24 steps in the executors, on 3000 of the 3000 images");
    }

    /**
     * Training in the executors by gradient sharing: every step, each executor's JVM computes the
     * gradient of its batch at the parameters the driver broadcast, and the driver applies their sum.
     */
    @Test
    @Order(5)
    void gradientSharingTrainsInTheExecutors() throws Exception {
        trainsInTheExecutors("gradient-sharing", "shared",
                "train: epoch 2/2 in the executors: 12 steps of 2 workers x 128 images (gradient sharing)");
    }

    /** Trains two epochs with {@code mode}; the driver's log says {@code logged}, and the network learned. */
    private void trainsInTheExecutors(String mode, String name, String logged) throws Exception {
        String runDir = hdfs.getFileSystem().getUri() + "/sparkslim/runs/yarn-" + name;
        Submission run = submit("client", runDir, name, "pipeline.stages = [prepare-data, train]",
                "train { epochs = 2, distributed.mode = " + mode + " }");
        assertEquals(0, run.code(), run.output());
        assertTrue(exists(runDir + "/train/_SUCCESS"));
        assertTrue(run.output().contains(logged), run.output());
        SparkSession spark = TestPipeline.localSpark("yarn-" + name + "-check");
        try {
            double valTop1 = spark.read().parquet(runDir + "/train/history.parquet").where("epoch = 2")
                    .first().getAs("val_top1");
            assertTrue(valTop1 > 0.4, mode + " trained the driver's network: " + valTop1);
        } finally {
            spark.stop();
        }
    }

    /**
     * The Java process of an executor container: YARN starts it under a {@code bash -c} whose command
     * line names the same class and container. Killing that shell instead would leave the JVM running
     * in a container YARN counts as ended, and YARN would then delete the files under the live JVM.
     */
    private static ProcessHandle executorJvm(String container) {
        return ProcessHandle.allProcesses()
                .filter(h -> h.info().command().filter(c -> c.endsWith("/java")).isPresent())
                .filter(h -> h.info().commandLine()
                        .filter(c -> c.contains("CoarseGrainedExecutorBackend") && c.contains(container)).isPresent())
                .findFirst().orElseThrow(() -> new AssertionError("no executor JVM of " + container));
    }

    /**
     * The log (stderr) of an executor container of {@code application} that has been running the same
     * task for the last 300 ms (a scoring task, not one of the short reads around it), or null.
     */
    private static Path executorRunningALongTask(String application) throws Exception {
        Map<Path, String> running = runningTasks(application);
        Thread.sleep(300);
        Map<Path, String> still = runningTasks(application);
        return running.entrySet().stream().filter(e -> e.getValue().equals(still.get(e.getKey()))).map(Map.Entry::getKey)
                .findFirst().orElse(null);
    }

    /** Each executor container log of {@code application} whose last task line says it is running one: that line. */
    private static Map<Path, String> runningTasks(String application) throws IOException {
        String containers = "container_" + application.substring("application_".length());
        Map<Path, String> running = new HashMap<>();
        try (Stream<Path> files = Files.walk(yarn.getTestWorkDir().toPath())) {
            for (Path log : files.filter(f -> f.getFileName().toString().equals("stderr")
                    && f.getParent().getFileName().toString().startsWith(containers)).toList()) {
                List<String> tasks = Files.readAllLines(log).stream()
                        .filter(l -> l.contains("Executor: Running task") || l.contains("Executor: Finished task")).toList();
                if (!tasks.isEmpty() && tasks.get(tasks.size() - 1).contains("Running task")) {
                    running.put(log, tasks.get(tasks.size() - 1));
                }
            }
        }
        return running;
    }

    private static List<Row> table(SparkSession spark, String path, String columns) {
        return spark.read().parquet(path).selectExpr(columns.split(", ")).collectAsList();
    }

    private record Submission(int code, String output) {
    }

    private record Started(Process process, Path log) {
    }

    private interface Condition {
        boolean holds() throws IOException;
    }

    /** Waits until {@code condition} holds or the submission ends. */
    private static void awaitOrEnd(Started started, Condition condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (!condition.holds() && started.process().isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }

    private static String applicationId(String log) {
        Matcher m = Pattern.compile("Submitted application (application_\\d+_\\d+)").matcher(log);
        assertTrue(m.find(), "the submission's application id: " + log);
        return m.group(1);
    }

    private Submission submit(String deployMode, String run, String name, String... more) throws Exception {
        Started started = start(deployMode, run, name, more);
        assertTrue(started.process().waitFor(15, TimeUnit.MINUTES), "the submission ended");
        return new Submission(started.process().exitValue(), Files.readString(started.log()));
    }

    /** Submits the test's run, and {@code more} settings, through the launcher script, as a user does. */
    private Started start(String deployMode, String run, String name, String... more) throws IOException {
        Path conf = Files.writeString(dir.resolve(name + ".conf"), String.join("\n",
                "pipeline.stages = [" + String.join(", ", STAGES) + "]",
                "run.dir = \"" + run + "\"",
                "data.limit { train = 3000, val = 200, test = 10000 }", "data.partitions = 2",
                "model { family = vgg, width-multiplier = 0.25 }", "train.epochs = 3",
                "evaluate { write-predictions = false, latency { batch-sizes = [1], warmup = 1, runs = 3 } }",
                // the minicluster runs no web proxy for the UI's filter to point at
                "spark.conf { \"spark.ui.enabled\" = false }") + "\n" + String.join("\n", more) + "\n");
        Path log = dir.resolve("submit-" + name + ".log");
        ProcessBuilder pb = new ProcessBuilder("bash", SCRIPT.toString(), conf.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("HADOOP_CONF_DIR", hadoopConf.toString());
        env.put("SPARKSLIM_DEPLOY_MODE", deployMode);
        env.put("SPARKSLIM_DRIVER_MEMORY", "2g");
        env.put("SPARKSLIM_DRIVER_OFFHEAP", "2g");
        env.put("SPARKSLIM_EXECUTORS", "2");
        env.put("SPARKSLIM_EXECUTOR_CORES", "1");
        env.put("SPARKSLIM_EXECUTOR_MEMORY", "1g");
        env.put("SPARKSLIM_EXECUTOR_OFFHEAP", "1g");
        // the executors' flags come from the script: nothing of this JVM's leaks into the submission
        env.remove("JAVA_TOOL_OPTIONS");
        env.remove("_JAVA_OPTIONS");
        return new Started(pb.start(), log);
    }

    private static boolean exists(String path) throws IOException {
        return hdfs.getFileSystem().exists(hdfsPath(path));
    }

    private static org.apache.hadoop.fs.Path hdfsPath(String path) {
        return new org.apache.hadoop.fs.Path(path);
    }

    private Map<String, Long> successTimes(String run) throws IOException {
        Map<String, Long> times = new HashMap<>();
        for (String stage : STAGES) {
            times.put(stage, hdfs.getFileSystem().getFileStatus(hdfsPath(run + "/" + stage + "/_SUCCESS"))
                    .getModificationTime());
        }
        return times;
    }

    /** The container logs (stdout, stderr) of the minicluster's node manager that contain {@code marker}, joined. */
    private static String containerLogs(String marker) throws IOException {
        StringBuilder found = new StringBuilder();
        try (Stream<Path> files = Files.walk(yarn.getTestWorkDir().toPath())) {
            for (Path f : files.filter(f -> f.getFileName().toString().matches("stdout|stderr")).toList()) {
                String text = Files.readString(f);
                if (text.contains(marker)) {
                    found.append(text);
                }
            }
        }
        return found.toString();
    }

    /**
     * A Spark installation as a distribution lays it out: {@code RELEASE}, {@code jars/} (Spark, Scala,
     * Hadoop's client, and their libraries: this test's classpath without the project's own), and a
     * {@code bin/spark-submit} that hands its arguments to Spark's launcher, as the distribution's does.
     */
    private static Path sparkDistribution() throws IOException {
        Path home = Files.createDirectories(dir.resolve("spark"));
        Path jars = Files.createDirectories(home.resolve("jars"));
        Files.writeString(home.resolve("RELEASE"), "Spark (test distribution)\n");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> kept = new ArrayList<>();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (entry.endsWith(".jar") && NOT_SPARK.stream().noneMatch(entry::contains)) {
                Path jar = Path.of(entry);
                Path link = jars.resolve(jar.getFileName());
                if (!Files.exists(link)) {
                    Files.createSymbolicLink(link, jar);
                }
                kept.add(entry);
            }
        }
        assertTrue(kept.stream().anyMatch(j -> j.contains("spark-yarn")), "spark-yarn in the distribution: " + kept);
        Path bin = Files.createDirectories(home.resolve("bin"));
        Path submit = bin.resolve("spark-submit");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Files.writeString(submit, String.join("\n",
                "#!/usr/bin/env bash",
                "# as bin/spark-class: Spark's launcher prints messages, an empty line, then the command",
                "# NUL-separated; its exit code follows",
                "export SPARK_HOME=\"$(cd \"$(dirname \"$0\")/..\" && pwd)\" SPARK_SCALA_VERSION=2.12",
                "export JAVA_HOME=\"" + System.getProperty("java.home") + "\"",
                "cmd=()",
                "delim=$'\\n'",
                "started=false",
                "while IFS= read -d \"$delim\" -r arg; do",
                "  if $started; then cmd+=(\"$arg\")",
                "  elif [ -z \"$arg\" ]; then delim=''; started=true",
                "  else echo \"$arg\"; fi",
                "done < <(\"" + java + "\" -Xmx128m -cp \"" + jars + "/*\" org.apache.spark.launcher.Main"
                        + " org.apache.spark.deploy.SparkSubmit \"$@\"; printf '%d\\0' $?)",
                "code=${cmd[${#cmd[@]}-1]}",
                "[ \"$code\" = 0 ] || exit \"$code\"",
                "exec \"${cmd[@]:0:${#cmd[@]}-1}\"", ""));
        Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
        return home;
    }
}
