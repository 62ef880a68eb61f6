package org.sparkslim.jobs.pipeline;

import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/** What a running stage gets: Spark, its settings, where to write, and its inputs' checkpoints. */
public final class StageContext<S> {
    private final StageInstance<S> instance;
    private final SparkSession spark;
    private final RunDirectory run;
    private final Path output;
    private final Path resumeArea;
    private final Map<String, Stage<?>> runStages;

    StageContext(StageInstance<S> instance, SparkSession spark, RunDirectory run, Path output, Path resumeArea,
                 Map<String, Stage<?>> runStages) {
        this.instance = instance;
        this.runStages = runStages;
        this.spark = spark;
        this.run = run;
        this.output = output;
        this.resumeArea = resumeArea;
    }

    public SparkSession spark() {
        return spark;
    }

    public S settings() {
        return instance.settings();
    }

    public RunDirectory run() {
        return run;
    }

    /** The temporary directory this stage writes into. */
    public Path output() {
        return output;
    }

    public Path output(String name) {
        return new Path(output, name);
    }

    /**
     * A directory for what would let a killed run of this stage resume instead of starting again (a
     * training's state after each epoch): it outlives a failed run, and is deleted when the stage
     * commits, is forced to run again, or its signature changes.
     */
    public Path resumeArea() {
        return resumeArea;
    }

    /** The completed checkpoint of an input stage. */
    public Path input(String stageName) {
        if (!instance.inputs().contains(stageName)) {
            throw new IllegalStateException("stage '" + instance.name() + "' reads '" + stageName
                    + "' but does not declare it as an input");
        }
        return run.stage(stageName);
    }

    /** The stage a name of this run's pipeline stands for (null for a path, or a stage not listed). */
    public Stage<?> stageOf(String name) {
        return runStages.get(name);
    }

    /** This stage's name in the run (its checkpoint directory). */
    public String stageName() {
        return instance.name();
    }

    /** The signature of an input's completed checkpoint (what it was made from). */
    public String inputSignature(String stageName) {
        input(stageName);
        return run.completedSignature(stageName).orElseThrow(() -> new IllegalStateException(
                "input '" + stageName + "' has no completed checkpoint"));
    }

    /** Names the Spark jobs that follow in the UI and the log. */
    public void describe(String what) {
        spark.sparkContext().setJobGroup(instance.name(), instance.name() + ": " + what, false);
    }
}
