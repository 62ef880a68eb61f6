package org.sparkslim.jobs.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.config.RunConfig;
import org.sparkslim.jobs.spark.LocalSpark;

/** Skip, re-run, --from and failure handling, with three small stages: a -> b -> c. */
class PipelineTest {
    @RegisterExtension
    static final LocalSpark SPARK = new LocalSpark("local[1]", "pipeline-test");

    private final SparkSession spark = SPARK.session();

    @TempDir
    Path dir;
    RecordingStage a;
    RecordingStage b;
    RecordingStage c;
    Pipeline pipeline;

    @BeforeEach
    void stages() {
        a = new RecordingStage("prepare-data", List.of("data.limit"), List.of());
        b = new RecordingStage("train", List.of("train"), List.of("prepare-data"));
        c = new RecordingStage("evaluate", List.of("evaluate"), List.of("train"));
        pipeline = new Pipeline(new StageRegistry().register(a).register(b).register(c), "test");
    }

    Config config(String... overrides) {
        List<String> all = new ArrayList<>(List.of("run.dir=\"" + dir + "\"", "pipeline.stages=[prepare-data, train, evaluate]"));
        all.addAll(List.of(overrides));
        return RunConfig.load(List.of(), all);
    }

    List<String> ran(List<StageOutcome> outcomes) {
        return outcomes.stream().filter(o -> o.status() == StageOutcome.Status.RAN).map(StageOutcome::stage).toList();
    }

    String output(String stage) throws Exception {
        return Files.readString(dir.resolve(stage).resolve("out.txt"), StandardCharsets.UTF_8);
    }

    @Test
    void runsOnceThenSkipsThenRerunsWhatAChangeAffects() throws Exception {
        assertEquals(List.of("prepare-data", "train", "evaluate"), ran(pipeline.run(spark, config(), null)));
        assertEquals("evaluate<train<prepare-data", output("evaluate"));
        assertTrue(Files.exists(dir.resolve("train").resolve(RunDirectory.SUCCESS)));
        assertTrue(Files.exists(dir.resolve("run.conf")));

        assertEquals(List.of(), ran(pipeline.run(spark, config(), null)), "nothing changed, nothing runs");
        assertEquals(List.of("evaluate"), ran(pipeline.run(spark, config("evaluate.batch-size=64"), null)));
        assertEquals(List.of("train", "evaluate"), ran(pipeline.run(spark, config("evaluate.batch-size=64",
                "train.epochs=2"), null)));
        assertEquals(List.of("train", "evaluate"), ran(pipeline.run(spark, config("evaluate.batch-size=64",
                "train.epochs=2"), "train")), "--from forces the stage and those after it");
    }

    @Test
    void checkpointsOfOtherCodeAreRebuiltAndTheMarkerNamesTheCode() throws Exception {
        pipeline.run(spark, config(), null);
        RunDirectory run = RunDirectory.open(dir.toString(), spark.sparkContext().hadoopConfiguration());
        assertEquals(java.util.Optional.of("test"), run.completedCode("train"));
        Pipeline newer = new Pipeline(new StageRegistry().register(a).register(b).register(c), "test+1");
        assertEquals(List.of("prepare-data", "train", "evaluate"), ran(newer.run(spark, config(), null)));
        assertEquals(java.util.Optional.of("test+1"), run.completedCode("train"));
        assertEquals(List.of(), ran(newer.run(spark, config(), null)));
    }

    @Test
    void aFailedStageLeavesTheOldCheckpointAndNoMarker() throws Exception {
        pipeline.run(spark, config(), null);
        String before = output("train");
        b.failWith = new IllegalStateException("killed");
        assertThrows(IllegalStateException.class, () -> pipeline.run(spark, config("train.epochs=2"), null));
        assertEquals(before, output("train"), "the complete old checkpoint is untouched");
        try (var tmp = Files.list(dir.resolve(".tmp"))) {
            assertEquals(0, tmp.count(), "the failed stage's partial output is gone");
        }
        b.failWith = null;
        assertEquals(List.of("train", "evaluate"), ran(pipeline.run(spark, config("train.epochs=2"), null)));
    }

    /** A stage that ends without writing a declared output is not committed; the old checkpoint stays. */
    @Test
    void aStageMissingAnOutputIsNotCommitted() throws Exception {
        pipeline.run(spark, config(), null);
        String before = output("train");
        RunDirectory run = RunDirectory.open(dir.toString(), spark.sparkContext().hadoopConfiguration());
        String signature = run.completedSignature("train").orElseThrow();
        b.writesNothing = true;
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> pipeline.run(spark, config("train.epochs=2"), null));
        assertTrue(e.getMessage().contains("stage 'train'") && e.getMessage().contains("out.txt is missing"),
                e.getMessage());
        assertEquals(before, output("train"));
        assertEquals(signature, run.completedSignature("train").orElseThrow(), "the old marker stays");
    }

    @Test
    void aStageWithoutMarkerRunsAgain() throws Exception {
        pipeline.run(spark, config(), null);
        // what a kill between moving the directory in and writing the marker leaves
        Files.delete(dir.resolve("train").resolve(RunDirectory.SUCCESS));
        Files.createDirectories(dir.resolve(".tmp").resolve("train-deadbeef"));
        assertEquals(List.of("train", "evaluate"), ran(pipeline.run(spark, config(), null)));
        assertFalse(Files.exists(dir.resolve(".tmp").resolve("train-deadbeef")), "stale temporary output is cleared");
    }

    @Test
    void inputsMustComeFirstOrBeCompleted() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> pipeline.run(spark, config("pipeline.stages=[train]"), null));
        assertTrue(e.getMessage().contains("'prepare-data'"), e.getMessage());
        ConfigException unknown = assertThrows(ConfigException.class, () -> pipeline.plan(config("pipeline.stages=[trian]")));
        assertTrue(unknown.getMessage().contains("did you mean 'train'"), unknown.getMessage());
        assertThrows(ConfigException.class, () -> pipeline.run(spark, config(), "nope"));
    }

    private void writeLock(long pid) throws Exception {
        writeLock(RunLock.holder(pid));
    }

    private void writeLock(Properties holder) throws Exception {
        try (var out = Files.newOutputStream(dir.resolve(RunLock.FILE))) {
            holder.store(out, null);
        }
    }

    private FileTime lastTouched() throws Exception {
        return Files.getLastModifiedTime(dir.resolve(RunLock.FILE));
    }

    /** One run at a time per run directory: a live holder is named, a dead one's lock is taken over. */
    @Test
    void aRunDirectoryInUseIsRefusedAndAStaleLockIsTakenOver() throws Exception {
        Files.createDirectories(dir);
        writeLock(ProcessHandle.current().pid()); // a live process on this host
        ConfigException busy = assertThrows(ConfigException.class, () -> pipeline.run(spark, config(), null));
        assertTrue(busy.getMessage().contains("in use by the run of process " + ProcessHandle.current().pid())
                && busy.getMessage().contains(RunLock.FILE), busy.getMessage());
        assertEquals(List.of(), a.runs, "nothing ran");

        Process ended = new ProcessBuilder("true").start();
        ended.waitFor();
        writeLock(ended.pid());
        assertEquals(List.of("prepare-data", "train", "evaluate"), ran(pipeline.run(spark, config(), null)));
        assertFalse(Files.exists(dir.resolve(RunLock.FILE)), "the lock is released when the run ends");
    }

    /** A holder on another host cannot be asked; its lock is stale only once its heartbeat has stopped. */
    @Test
    void aLockFromAnotherHostIsTakenOverOnlyWhenNoLongerTouched() throws Exception {
        Files.createDirectories(dir);
        Properties elsewhere = RunLock.holder(1);
        elsewhere.setProperty("host", "another-host.example");
        writeLock(elsewhere);
        ConfigException busy = assertThrows(ConfigException.class, () -> pipeline.run(spark, config(), null));
        assertTrue(busy.getMessage().contains("on another-host.example"), busy.getMessage());

        Files.setLastModifiedTime(dir.resolve(RunLock.FILE),
                FileTime.from(Instant.now().minus(RunLock.STALE_AFTER).minusSeconds(60)));
        assertEquals(List.of("prepare-data", "train", "evaluate"), ran(pipeline.run(spark, config(), null)));
    }

    @Test
    void aHeldLockIsTouchedWhileTheRunLasts() throws Exception {
        Files.createDirectories(dir);
        var hadoop = spark.sparkContext().hadoopConfiguration();
        var fs = org.apache.hadoop.fs.FileSystem.getLocal(hadoop);
        try (RunLock lock = RunLock.take(fs, new org.apache.hadoop.fs.Path(dir.toString()), Duration.ofMillis(50),
                RunLock.STALE_AFTER)) {
            FileTime old = FileTime.from(Instant.now().minusSeconds(3600));
            Files.setLastModifiedTime(dir.resolve(RunLock.FILE), old);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (lastTouched().equals(old) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(lastTouched().toInstant().isAfter(Instant.now().minusSeconds(60)), "touched: " + lastTouched());
        }
    }

    @Test
    void theLockIsReleasedWhenAStageFails() throws Exception {
        b.failWith = new IllegalStateException("killed");
        assertThrows(IllegalStateException.class, () -> pipeline.run(spark, config(), null));
        assertFalse(Files.exists(dir.resolve(RunLock.FILE)));
    }

    /** A checkpoint whose files changed after it was committed is reported, not reused, naming the file. */
    @Test
    void aDamagedCheckpointIsReportedWithTheCommandThatRebuildsIt() throws Exception {
        pipeline.run(spark, config(), null);
        Files.writeString(dir.resolve("train").resolve("out.txt"), "trunc");
        ConfigException reused = assertThrows(ConfigException.class, () -> pipeline.run(spark, config(), null));
        assertTrue(reused.getMessage().contains("train/out.txt has 5 bytes") && reused.getMessage().contains("--from train"),
                reused.getMessage());
        ConfigException read = assertThrows(ConfigException.class,
                () -> pipeline.run(spark, config("pipeline.stages=[evaluate]"), null));
        assertTrue(read.getMessage().contains("reads 'train', whose checkpoint is damaged"), read.getMessage());

        assertEquals(List.of("train", "evaluate"), ran(pipeline.run(spark, config(), "train")));
        assertEquals(List.of(), ran(pipeline.run(spark, config(), null)), "rebuilt, and whole again");
    }

    @Test
    void aRunDirectoryThatCannotBeCreatedIsAConfigFault() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        ConfigException e = assertThrows(ConfigException.class,
                () -> pipeline.run(spark, config("run.dir=\"" + file.resolve("run") + "\""), null));
        assertTrue(e.getMessage().startsWith("run.dir: cannot"), e.getMessage());
    }
}
