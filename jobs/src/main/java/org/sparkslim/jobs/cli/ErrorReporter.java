package org.sparkslim.jobs.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.InvalidDataException;
import org.sparkslim.jobs.config.ConfigException;
import picocli.CommandLine;

/**
 * Prints a user's mistake (a bad config, bad data) as one clear message without a stack trace, and
 * anything else with its trace.
 */
final class ErrorReporter implements CommandLine.IExecutionExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorReporter.class);

    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        Throwable userFault = userFault(e);
        if (userFault != null) {
            cmd.getErr().println("sparkslim: " + userFault.getMessage());
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
