package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkslim.jobs.cli.SparkSlim;
import org.sparkslim.jobs.pipeline.RunDirectory;

/**
 * A run killed (SIGKILL) in the middle of training resumes, on the next run, from the last epoch it
 * finished, and ends with the same model as a run that was never interrupted; a search killed between
 * rounds resumes from its last saved round and ends with the same trials. Each run is its own
 * {@code sparkslim run} process, as a user's would be.
 */
class KilledRunResumeTest {
    private static final int EPOCHS = 4;
    private static final int KILL_AFTER = 2;

    @TempDir
    Path dir;

    private Path config(String... more) throws IOException {
        List<String> lines = new ArrayList<>(List.of("pipeline.stages = [prepare-data, train]",
                "data.limit { train = 2000, val = 200, test = 200 }", "data.partitions = 2",
                "model { family = vgg, width-multiplier = 0.25 }",
                "train.epochs = " + EPOCHS, "spark.master = \"local[2]\""));
        lines.addAll(List.of(more));
        return Files.writeString(dir.resolve("resume.conf"), String.join("\n", lines) + "\n");
    }

    /** {@code sparkslim run} in a new JVM with this one's classpath and flags; its log goes to a file. */
    private Process start(Path conf, Path runDir, Path log) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-opens") || arg.startsWith("-D") && !arg.startsWith("-Dbasedir")
                    || arg.startsWith("-XX:")) {
                command.add(arg);
            }
        }
        command.add("-Xmx3g");
        command.add("-cp");
        command.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        command.add(SparkSlim.class.getName());
        command.addAll(List.of("run", conf.toString(), "--set", "run.dir=\"" + runDir + "\""));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private int runToEnd(Path conf, Path runDir, Path log) throws Exception {
        return start(conf, runDir, log).waitFor();
    }

    /** Starts a run and kills it (SIGKILL: no shutdown hook, no cleanup) once {@code saved} appears in its resume area. */
    private void killWhenSaved(Path conf, Path runDir, Path log, String stage, String saved) throws Exception {
        Process run = start(conf, runDir, log);
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (savedFile(runDir, stage, saved).isEmpty() && run.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(run.isAlive(), "the run was still in " + stage + " when " + saved + " was saved: "
                + Files.readString(log));
        run.destroyForcibly();
        run.waitFor();
        assertFalse(Files.exists(runDir.resolve(stage).resolve(RunDirectory.SUCCESS)), "nothing committed");
    }

    private static Optional<Path> savedFile(Path runDir, String stage, String name) throws IOException {
        Path area = runDir.resolve(".resume").resolve(stage);
        if (!Files.isDirectory(area)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.walk(area)) {
            return files.filter(f -> f.toString().endsWith(name)).findFirst();
        } catch (UncheckedIOException | NoSuchFileException e) {
            // a file Spark was writing went away during the walk: look again at the next poll
            return Optional.empty();
        }
    }

    @Test
    void aRunKilledInTrainingResumesFromItsLastEpochToTheSameModel() throws Exception {
        TestPipeline.requireFashionMnist();
        Path conf = config();
        Path whole = dir.resolve("whole");
        assertEquals(0, runToEnd(conf, whole, dir.resolve("whole.log")), Files.readString(dir.resolve("whole.log")));

        Path killed = dir.resolve("killed");
        killWhenSaved(conf, killed, dir.resolve("killed.log"), "train", "epoch-" + KILL_AFTER + ".state");
        assertTrue(Files.exists(killed.resolve(".lock")), "the killed run's lock is left behind");

        Path resumedLog = dir.resolve("resumed.log");
        assertEquals(0, runToEnd(conf, killed, resumedLog), Files.readString(resumedLog));
        String log = Files.readString(resumedLog);
        assertTrue(log.contains("is no longer running"), "the stale lock is taken over: " + log);
        assertTrue(log.contains("prepare-data: checkpoint is up to date"), log);
        int resumedAt = savedEpochBeforeKill(log);
        assertTrue(resumedAt >= KILL_AFTER && resumedAt < EPOCHS, "resumed after epoch " + resumedAt + ": " + log);
        assertFalse(log.contains("epoch 1/" + EPOCHS + " done"), "epoch 1 is not trained again: " + log);

        assertArrayEquals(TestPipeline.model(whole.resolve("train")).params().data().asFloat(),
                TestPipeline.model(killed.resolve("train")).params().data().asFloat(),
                "the resumed run's model is the uninterrupted run's, bit for bit");
        assertEquals(Files.readString(whole.resolve("train").resolve(RunDirectory.SUCCESS)).lines()
                        .filter(l -> l.startsWith("signature=")).toList(),
                Files.readString(killed.resolve("train").resolve(RunDirectory.SUCCESS)).lines()
                        .filter(l -> l.startsWith("signature=")).toList());
        assertFalse(Files.exists(killed.resolve(".resume").resolve("train")), "the saved states go with the commit");
    }

    @Test
    void aSearchKilledAfterARoundResumesToTheSameTrials() throws Exception {
        TestPipeline.requireFashionMnist();
        Path conf = config("pipeline.stages = [prepare-data, train, prune-search, prune]", "train.epochs = 1",
                "prune { strategy = search, tolerance = 0.03, bn-recalibration-images = 100 }",
                "prune-search { rounds = 8, candidates-per-round = 2 }");
        Path whole = dir.resolve("whole");
        assertEquals(0, runToEnd(conf, whole, dir.resolve("whole.log")), Files.readString(dir.resolve("whole.log")));

        Path killed = dir.resolve("killed");
        killWhenSaved(conf, killed, dir.resolve("killed.log"), "prune-search", "round-00002/trials.parquet/_SUCCESS");
        Path resumedLog = dir.resolve("resumed.log");
        assertEquals(0, runToEnd(conf, killed, resumedLog), Files.readString(resumedLog));
        String log = Files.readString(resumedLog);
        assertTrue(log.contains("resuming the search after round "), log);
        assertFalse(log.contains("search round 1/8"), "round 1 is not scored again: " + log);

        SparkSession spark = TestPipeline.localSpark("sparkslim-search-resume");
        List<Row> expected = trials(spark, whole);
        assertEquals(16, expected.size());
        assertEquals(expected, trials(spark, killed), "the resumed search's trials are the uninterrupted one's");
        assertEquals(Files.readString(whole.resolve("prune-search/plan.json")),
                Files.readString(killed.resolve("prune-search/plan.json")));
        assertFalse(Files.exists(killed.resolve(".resume").resolve("prune-search")), "the saved rounds go with the commit");

        // every candidate is inside the MAC window, the search never lost its best, and prune replays the best plan
        for (Row r : expected) {
            assertEquals(0.5, r.<Double>getAs("reduction"), 0.03 + 1e-9);
        }
        double best = expected.stream().mapToDouble(r -> r.<Double>getAs("top1")).max().orElseThrow();
        assertTrue(best >= expected.get(0).<Double>getAs("top1"), "the best is at least the uniform start");
        assertEquals(Files.readString(killed.resolve("prune-search/plan.json")),
                Files.readString(killed.resolve("prune/plan.json")));
        long dense = spark.read().parquet(killed.resolve("train/models.parquet").toString()).first().getAs("macs");
        long pruned = spark.read().parquet(killed.resolve("prune/models.parquet").toString()).first().getAs("macs");
        assertEquals(0.5, 1 - pruned / (double) dense, 0.03 + 1e-9);
    }

    private static List<Row> trials(SparkSession spark, Path run) {
        return spark.read().parquet(run.resolve("prune-search/trials.parquet").toString())
                .orderBy("round", "candidate").collectAsList();
    }

    /** The epoch the resumed run continued after, from its log line. */
    private static int savedEpochBeforeKill(String log) {
        String marker = "resuming after epoch ";
        int at = log.indexOf(marker);
        assertTrue(at >= 0, "the run resumed: " + log);
        return Integer.parseInt(log.substring(at + marker.length()).split("/")[0]);
    }
}
