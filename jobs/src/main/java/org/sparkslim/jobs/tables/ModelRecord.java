package org.sparkslim.jobs.tables;

import java.io.Serializable;

/**
 * One row of a stage's {@code models.parquet}: a model file of the checkpoint (path relative to the
 * stage directory), its SHA-256, what it is, and its cost.
 */
public record ModelRecord(String name, String file, String sha256, String family, String widths,
                          long macs, long params, long bytes) implements Serializable {
}
