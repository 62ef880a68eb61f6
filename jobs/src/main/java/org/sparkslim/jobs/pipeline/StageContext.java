package org.sparkslim.jobs.pipeline;

import com.typesafe.config.Config;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/** What a running stage gets: Spark, the run's config, where to write, and its inputs' checkpoints. */
public final class StageContext {
    private final Stage stage;
    private final SparkSession spark;
    private final Config config;
    private final RunDirectory run;
    private final Path output;

    StageContext(Stage stage, SparkSession spark, Config config, RunDirectory run, Path output) {
        this.stage = stage;
        this.spark = spark;
        this.config = config;
        this.run = run;
        this.output = output;
    }

    public SparkSession spark() {
        return spark;
    }

    public Config config() {
        return config;
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

    /** The completed checkpoint of an input stage. */
    public Path input(String stageName) {
        if (!stage.inputs(config).contains(stageName)) {
            throw new IllegalStateException("stage '" + stage.name() + "' reads '" + stageName
                    + "' but does not declare it as an input");
        }
        return run.stage(stageName);
    }

    public String stageName() {
        return stage.name();
    }

    /** The signature of an input's completed checkpoint (what it was made from). */
    public String inputSignature(String stageName) {
        input(stageName);
        return run.completedSignature(stageName).orElseThrow(() -> new IllegalStateException(
                "input '" + stageName + "' has no completed checkpoint"));
    }

    public long seed() {
        return config.getLong("run.seed");
    }

    /** Names the Spark jobs that follow in the UI and the log. */
    public void describe(String what) {
        spark.sparkContext().setJobGroup(stage.name(), stage.name() + ": " + what, false);
    }
}
