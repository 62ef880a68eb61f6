package org.sparkslim.jobs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code sparkslim}: the command line of SparkSlim. */
@Command(name = "sparkslim", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Compress neural networks as resumable Spark pipelines (DL4J).",
        subcommands = {RunCommand.class, StagesCommand.class, BenchmarkCommand.class, CommandLine.HelpCommand.class})
public final class SparkSlim implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "print the stack trace of every error, a mistake in the config or data too")
    boolean verbose;

    public static void main(String[] args) {
        int code = execute(args);
        // A driver in a YARN container (cluster mode) succeeds only by returning from main: an exit,
        // even with 0, reads to the application master as an early failure.
        if (code != 0 || !"cluster".equals(System.getProperty("spark.submit.deployMode"))) {
            System.exit(code);
        }
    }

    /** Runs the command line and returns its exit code (for tests and embedding). */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        SparkSlim app = new SparkSlim();
        return new CommandLine(app).setExecutionExceptionHandler(new ErrorReporter(() -> app.verbose));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
