package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.jobs.cli.SparkSlim;
import org.sparkslim.jobs.config.RunConfig;
import org.sparkslim.jobs.pipeline.Pipeline;
import org.sparkslim.jobs.pipeline.StageOutcome;
import org.sparkslim.jobs.stages.Stages;

/**
 * What an integration test class runs its pipelines on: the real Fashion-MNIST files, a temporary run
 * directory, a Spark local[2] session, and the settings every run of the class starts from. Registered
 * as a static extension, it starts before the class's first test and stops after its last.
 */
final class TestPipeline implements BeforeAllCallback, AfterAllCallback {
    static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

    private final String name;
    private final List<String> defaults;
    private Path runDir;
    private SparkSession spark;

    /** {@code defaults} are settings, later ones winning. */
    TestPipeline(String name, String... defaults) {
        this.name = name;
        this.defaults = List.of(defaults);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        requireFashionMnist();
        runDir = Files.createTempDirectory(name);
        spark = localSpark(name);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (spark != null) {
            spark.stop();
        }
    }

    Path runDir() {
        return runDir;
    }

    /** Fails (does not skip) without the data: a green run must have used it. */
    static void requireFashionMnist() {
        assertTrue(Files.exists(FASHION.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST is not installed: apt-get install -y dataset-fashion-mnist");
    }

    /** This class's settings (its run directory, its defaults), then {@code more}. */
    List<String> settings(String... more) {
        List<String> all = new ArrayList<>();
        all.add("run.dir=\"" + runDir + "\"");
        all.addAll(defaults);
        all.addAll(List.of(more));
        return all;
    }

    List<StageOutcome> run(String... more) throws Exception {
        Config config = RunConfig.load(List.of(), settings(more));
        return new Pipeline(Stages.all(), "it").run(spark, config, null);
    }

    /** {@link #run(String...)} with a list of settings and a few more. */
    List<StageOutcome> run(List<String> settings, String... more) throws Exception {
        List<String> all = new ArrayList<>(settings);
        all.addAll(List.of(more));
        return run(all.toArray(String[]::new));
    }

    /** The stages that ran (were not skipped). */
    static List<String> ran(List<StageOutcome> outcomes) {
        return outcomes.stream().filter(o -> o.status() == StageOutcome.Status.RAN).map(StageOutcome::stage).toList();
    }

    /** A table of one of this run directory's checkpoints. */
    Dataset<Row> table(String stage, String file) {
        return parquet(runDir.resolve(stage).resolve(file));
    }

    Dataset<Row> parquet(Path file) {
        return spark.read().parquet(file.toString());
    }

    /** The model.zip of a checkpoint of this run directory. */
    ComputationGraph model(String stage) throws IOException {
        return model(runDir.resolve(stage));
    }

    /** The model.zip of a checkpoint directory. */
    static ComputationGraph model(Path checkpoint) throws IOException {
        return ModelFiles.fromBytes(Files.readAllBytes(checkpoint.resolve("model.zip")), checkpoint.toString());
    }

    /** What a command line run printed, and its exit code. */
    record Printed(int code, String out) {
    }

    /** Runs the command line in this process, capturing what it prints to standard output. */
    static Printed execute(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            int code = SparkSlim.execute(args);
            return new Printed(code, out.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
        }
    }

    /** A new session after code under test (the command line) stopped the shared one. */
    void restartSpark() {
        spark = localSpark(name);
    }

    static SparkSession localSpark(String name) {
        return SparkSession.builder().master("local[2]").appName(name).config("spark.ui.enabled", "false").getOrCreate();
    }
}
