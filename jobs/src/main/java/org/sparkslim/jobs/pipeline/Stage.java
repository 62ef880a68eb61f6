package org.sparkslim.jobs.pipeline;

import java.util.List;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * One kind of step of a pipeline. A stage reads the checkpoints of its inputs and writes its own into
 * {@link StageContext#output()}, a temporary directory that the pipeline moves into place only when
 * {@link #run} returns; a stage never sees a half-written input.
 *
 * <p>A stage never sees the config: {@link #settings} reads and checks everything it uses into a
 * typed value before any stage of the run starts, and the keys it read are what its signature covers.
 *
 * @param <S> the stage's settings
 */
public interface Stage<S> {
    /**
     * The stage's name in {@code pipeline.stages}, of its checkpoint directory and of its config section.
     * A stage listed a second time takes another name and says which stage it is:
     * {@code finetune-2 { type = finetune }}.
     */
    String name();

    /** One line for {@code sparkslim stages} and the Spark UI. */
    String description();

    /** Reads and checks the stage's settings; faults are collected by the reader, not thrown. */
    S settings(SettingsReader config);

    /** Names of the stages whose checkpoints this stage reads (a path names another run's checkpoint). */
    List<String> inputs(S settings);

    /**
     * The files and Parquet tables the stage always writes, relative to its checkpoint. The pipeline
     * commits a checkpoint only when each of them is there and complete.
     */
    List<String> outputs(S settings);

    void run(StageContext<S> context) throws Exception;
}
