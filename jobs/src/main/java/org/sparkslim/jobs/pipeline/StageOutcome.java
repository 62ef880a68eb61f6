package org.sparkslim.jobs.pipeline;

/** What the pipeline did with one stage. */
public record StageOutcome(String stage, Status status, String signature, double seconds) {
    public enum Status { RAN, SKIPPED }
}
