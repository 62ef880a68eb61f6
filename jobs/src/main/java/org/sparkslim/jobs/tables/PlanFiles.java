package org.sparkslim.jobs.tables;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.jobs.pipeline.RunDirectory;
import org.sparkslim.jobs.pipeline.StageContext;

/**
 * The pruning plan of a checkpoint ({@code plan.json}: which of the original model's channels the
 * pruned model keeps), written by the stages that prune and read by those that replay a plan or cut a
 * teacher's features to a student's channels.
 */
public final class PlanFiles {
    public static final String PLAN = "plan.json";
    /** The step plans of iterative pruning, in order (each for the model the step before it left). */
    public static final String STEPS = "plans.json";

    private PlanFiles() {
    }

    public static void write(StageContext<?> ctx, PruningPlan plan) throws IOException {
        ctx.run().writeText(ctx.output(PLAN), plan.toJson());
    }

    /** The plan of a completed checkpoint, or empty when it has none (it did not prune). */
    public static Optional<PruningPlan> read(RunDirectory run, Path checkpoint) throws IOException {
        Path file = new Path(checkpoint, PLAN);
        if (!run.fileSystem().exists(file)) {
            return Optional.empty();
        }
        return Optional.of(PruningPlan.fromJson(new String(run.read(file), StandardCharsets.UTF_8), file.toString()));
    }
}
