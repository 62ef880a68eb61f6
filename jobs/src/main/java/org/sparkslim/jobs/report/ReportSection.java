package org.sparkslim.jobs.report;

import org.apache.hadoop.fs.Path;

/**
 * A stage that has something to show in the run's report: it writes its own section from its
 * checkpoint, so the report stage needs to know no other stage.
 */
public interface ReportSection {
    /** Whether the section goes before the others (the scores of the run's models do); the rest follow in pipeline order. */
    default boolean leads() {
        return false;
    }

    /**
     * @param stage      this stage's name in the run
     * @param checkpoint its completed checkpoint
     */
    void report(Report report, String stage, Path checkpoint) throws Exception;
}
