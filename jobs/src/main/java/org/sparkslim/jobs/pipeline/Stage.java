package org.sparkslim.jobs.pipeline;

import com.typesafe.config.Config;
import java.util.List;

/**
 * One step of a pipeline. A stage reads the checkpoints of its inputs and writes its own into
 * {@link StageContext#output()}, a temporary directory that the pipeline moves into place only when
 * {@link #run} returns; a stage never sees a half-written input.
 */
public interface Stage {
    /** The name in {@code pipeline.stages} and of the checkpoint directory. */
    String name();

    /** One line for {@code sparkslim stages} and the Spark UI. */
    String description();

    /**
     * Config sections that shape this stage's output. Their values, with the inputs' signatures,
     * make the stage's signature: change one and the stage runs again.
     */
    List<String> configPaths();

    /** Names of the stages whose checkpoints this stage reads, for this config. */
    List<String> inputs(Config config);

    /** What the stage writes, for {@code sparkslim stages}. */
    List<String> outputs();

    void run(StageContext context) throws Exception;
}
