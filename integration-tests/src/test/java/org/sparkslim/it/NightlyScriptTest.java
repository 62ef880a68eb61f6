package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkslim.jobs.cli.SparkSlim;

/**
 * {@code submit-scripts/nightly.sh} as a scheduler runs it, night after night: dated run directories,
 * a failed night resumed the next night, retention, a lock, and exit codes a scheduler can act on.
 * The launcher is this build's command line in a new JVM.
 */
class NightlyScriptTest {
    static final Path SCRIPT = Path.of("..", "submit-scripts", "nightly.sh").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    /** An executable that runs {@code sparkslim} with this JVM's classpath and flags. */
    private Path launcher() throws IOException {
        List<String> java = new ArrayList<>();
        java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-opens") || arg.startsWith("-XX:")) {
                java.add(arg);
            }
        }
        java.add("-Xmx2g");
        java.add("-cp");
        java.add("'" + System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")) + "'");
        java.add(SparkSlim.class.getName());
        Path launcher = dir.resolve("sparkslim-test");
        Files.writeString(launcher, "#!/usr/bin/env bash\nexec " + String.join(" ", java) + " \"$@\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        return launcher;
    }

    private int night(Path conf, Path base, String date, String... more) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString(), conf.toString(), base.toString(),
                "--keep", "2"));
        command.addAll(List.of(more));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("script-" + date + ".out").toFile());
        pb.environment().put("SPARKSLIM_LAUNCHER", launcher().toString());
        pb.environment().put("NIGHTLY_DATE", date);
        Process p = pb.start();
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "night " + date + " ended");
        return p.exitValue();
    }

    private static List<String> runs(Path base) throws IOException {
        try (Stream<Path> s = Files.list(base.resolve("runs"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void nightsAreDatedResumedAfterAFailureKeptAndLocked() throws Exception {
        TestPipeline.requireFashionMnist();
        Path conf = Files.writeString(dir.resolve("nightly.conf"), String.join("\n",
                "pipeline.stages = [prepare-data]", "data.limit { train = 300, val = 100, test = 100 }",
                "data.partitions = 2", "spark.master = \"local[2]\"") + "\n");
        Path base = dir.resolve("nightly");

        // night 1 fails on bad input: exit 2, its run directory stays incomplete
        Path empty = Files.createDirectories(dir.resolve("no-data"));
        assertEquals(2, night(conf, base, "2026-01-01", "--set", "data.fashion-mnist.dir=\"" + empty + "\""));
        assertEquals(List.of("2026-01-01"), runs(base));
        assertFalse(Files.exists(base.resolve("runs/2026-01-01/.nightly-complete")));
        // night 2 resumes it and completes
        assertEquals(0, night(conf, base, "2026-01-02"));
        assertEquals(List.of("2026-01-01"), runs(base), "the failed run resumed, no new directory");
        assertTrue(Files.exists(base.resolve("runs/2026-01-01/prepare-data/_SUCCESS")));
        assertTrue(Files.readString(base.resolve("logs/2026-01-02.log")).contains("finished with exit code 0"));
        // nights 3 and 4 start their own; only the newest two complete runs are kept
        assertEquals(0, night(conf, base, "2026-01-03"));
        assertEquals(0, night(conf, base, "2026-01-04"));
        assertEquals(List.of("2026-01-03", "2026-01-04"), runs(base));

        // a night that finds another holding the lock does not start: exit 75
        Process holder = new ProcessBuilder("flock", base.resolve(".nightly.lock").toString(), "sleep", "30").start();
        try {
            Thread.sleep(500);
            assertEquals(75, night(conf, base, "2026-01-05"));
            assertTrue(Files.readString(base.resolve("logs/2026-01-05.log")).contains("not starting"));
        } finally {
            holder.destroy();
        }
        assertEquals(List.of("2026-01-03", "2026-01-04"), runs(base));
    }
}
