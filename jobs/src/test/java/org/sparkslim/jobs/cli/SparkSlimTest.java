package org.sparkslim.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Exit codes and what a user sees when a run cannot start. */
class SparkSlimTest {
    @TempDir
    Path dir;

    private record Outcome(int code, String err) {
    }

    private static Outcome execute(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = SparkSlim.commandLine();
        cli.setErr(new PrintWriter(err, true));
        return new Outcome(cli.execute(args), err.toString());
    }

    @Test
    void aUserMistakeIsOneLineWithExitCodeTwo() throws Exception {
        Path conf = Files.writeString(dir.resolve("run.conf"), "pipeline.stages = [prepare-data, trian]\n");
        Outcome o = execute("run", conf.toString(), "--set", "run.dir=\"" + dir.resolve("run") + "\"");
        assertEquals(2, o.code(), o.err());
        assertTrue(o.err().contains("did you mean 'train'"), o.err());
        assertFalse(o.err().contains("\tat "), "no stack trace without --verbose: " + o.err());

        Outcome missing = execute("run", dir.resolve("nothing-here.conf").toString());
        assertEquals(2, missing.code(), missing.err());
        assertTrue(missing.err().contains("nothing-here.conf"), missing.err());
    }

    @Test
    void verboseAddsTheStackTraceAfterTheSubcommandOrBeforeIt() {
        String missing = dir.resolve("nothing-here.conf").toString();
        for (String[] args : new String[][] {{"run", missing, "--verbose"}, {"--verbose", "run", missing}}) {
            Outcome o = execute(args);
            assertEquals(2, o.code(), o.err());
            assertTrue(o.err().startsWith("sparkslim: ") && o.err().contains("\tat org.sparkslim."), o.err());
        }
    }
}
