package org.sparkslim.jobs.cli;

import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.InvalidDataException;
import org.sparkslim.jobs.config.ConfigException;
import picocli.CommandLine;

/**
 * Prints a user's mistake (a bad config, bad data) as one clear message, exit code 2, without a stack
 * trace unless {@code --verbose}; anything else is an internal error, exit code 1, with its trace.
 */
final class ErrorReporter implements CommandLine.IExecutionExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorReporter.class);

    private final BooleanSupplier verbose;

    ErrorReporter(BooleanSupplier verbose) {
        this.verbose = verbose;
    }

    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        Throwable userFault = userFault(e);
        if (userFault != null) {
            cmd.getErr().println("sparkslim: " + userFault.getMessage());
            if (verbose.getAsBoolean()) {
                e.printStackTrace(cmd.getErr());
            }
            return 2;
        }
        LOG.error("sparkslim failed", e);
        cmd.getErr().println("sparkslim: failed: " + e);
        return 1;
    }

    private static Throwable userFault(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConfigException || t instanceof InvalidDataException) {
                return t;
            }
        }
        return null;
    }
}
