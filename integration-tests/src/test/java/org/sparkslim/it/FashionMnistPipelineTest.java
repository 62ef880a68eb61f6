package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.jobs.cli.SparkSlim;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.RunDirectory;
import org.sparkslim.jobs.pipeline.StageOutcome;
import org.sparkslim.jobs.tables.ImageTable;

/**
 * The foundation pipeline on a slice of the real Fashion-MNIST (2,000 training images, one epoch)
 * on Spark local[2]: every checkpoint, then a rerun that skips everything, then one changed key that
 * reruns exactly the affected stages, then bad input that fails clearly and harms nothing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FashionMnistPipelineTest {
    static final List<String> STAGES = List.of("prepare-data", "train", "evaluate", "export", "report");

    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-it",
            "data.limit.train=2000", "data.limit.val=500", "data.limit.test=1000", "data.partitions=4",
            "model.family=vgg", "model.width-multiplier=0.5",
            "train.epochs=1",
            "pipeline.stages=[prepare-data, train, evaluate, export, report]", "export.check-images=64",
            "evaluate.latency.warmup=2", "evaluate.latency.runs=5");

    static Map<String, String> firstSignatures = new HashMap<>();
    static Map<String, String> firstMarkers = new HashMap<>();

    static String marker(String stage) throws Exception {
        return Files.readString(it.runDir().resolve(stage).resolve(RunDirectory.SUCCESS));
    }

    @Test
    @Order(1)
    void firstRunWritesEveryCheckpoint() throws Exception {
        List<StageOutcome> outcomes = it.run();
        assertEquals(STAGES, TestPipeline.ran(outcomes));
        for (StageOutcome o : outcomes) {
            assertTrue(marker(o.stage()).contains("signature=" + o.signature()), o.stage() + " marker");
            firstSignatures.put(o.stage(), o.signature());
            firstMarkers.put(o.stage(), marker(o.stage()));
        }

        // prepare-data: the benchmark splits in the documented schema
        Map<String, Long> expected = Map.of("train", 2000L, "val", 500L, "test", 1000L);
        for (String split : ImageTable.SPLITS) {
            Dataset<Row> t = it.table("prepare-data", ImageTable.file(split));
            assertEquals(ImageTable.SCHEMA.simpleString(), t.schema().simpleString().replace("NOT NULL", ""));
            assertEquals(expected.get(split), t.count(), split);
            Row stats = t.selectExpr("min(id)", "min(label)", "max(label)", "min(length(image))", "max(length(image))",
                    "count(distinct id)").first();
            assertEquals(split.equals("val") ? 55_000L : 0L, stats.getLong(0), split + ": ids index the source file");
            assertTrue(stats.getInt(1) >= 0 && stats.getInt(2) <= 9);
            assertEquals(784, stats.getInt(3));
            assertEquals(784, stats.getInt(4));
            assertEquals(expected.get(split), stats.getLong(5));
        }

        // train: a model file whose hash and cost match models.parquet, and the history
        Row model = it.table("train", "models.parquet").first();
        byte[] bytes = Files.readAllBytes(it.runDir().resolve("train").resolve(model.<String>getAs("file")));
        assertEquals(ModelFiles.sha256(bytes), model.getAs("sha256"));
        assertEquals((long) bytes.length, model.<Long>getAs("bytes"));
        ModelFamily vgg = ModelZoo.family("vgg");
        ImageShape shape = new ImageShape(1, 28, 28);
        assertEquals(ModelCost.of(vgg.build(vgg.spec(vgg.baseWidths().scaled(0.5), shape, 10, 1)), shape).macs(),
                model.<Long>getAs("macs"));
        Row history = it.table("train", "history.parquet").first();
        assertEquals(1, history.<Integer>getAs("epoch"));
        assertTrue(history.<Double>getAs("val_top1") > 0.25, "one epoch on 2,000 images beats chance: " + history);

        // evaluate: metrics, per-class accuracy, confusion matrix and predictions agree
        Row metrics = it.table("evaluate", "metrics.parquet").first();
        assertEquals(1000L, metrics.<Long>getAs("examples"));
        double top1 = metrics.getAs("top1");
        assertTrue(top1 > 0.25 && top1 <= 1.0, "top-1 " + top1);
        Map<Integer, Double> latency = metrics.getJavaMap(metrics.fieldIndex("latency_ms"));
        assertTrue(latency.get(1) > 0 && latency.get(64) > latency.get(1), "latency " + latency);
        assertEquals(10, it.table("evaluate", "per-class.parquet").count());
        assertEquals(1000L, it.table("evaluate", "confusion.parquet").selectExpr("sum(count)").first().getLong(0));
        Dataset<Row> predictions = it.table("evaluate", "predictions.parquet");
        assertEquals(1000L, predictions.select("id").distinct().count());
        double recomputed = predictions.selectExpr("avg(cast(label = predicted as double))").first().getDouble(0);
        assertEquals(top1, recomputed, 1e-12);

        // export: an ONNX file that ONNX Runtime runs with DL4J's outputs
        Row export = it.table("export", "exports.parquet").first();
        assertTrue(export.<Double>getAs("max_abs_diff") < 1e-5, "ONNX Runtime vs DL4J: " + export);
        assertEquals(64, export.<Integer>getAs("checked_images"));
        assertEquals(Files.size(it.runDir().resolve("export").resolve(export.<String>getAs("file"))), export.<Long>getAs("bytes"));

        String report = Files.readString(it.runDir().resolve("report").resolve("report.md"));
        assertTrue(report.contains(String.format("%.2f", 100 * top1)), report);
        assertTrue(report.contains("Training history"), report);
    }

    @Test
    @Order(2)
    void secondRunSkipsEveryStage() throws Exception {
        List<StageOutcome> outcomes = it.run();
        assertEquals(List.of(), TestPipeline.ran(outcomes));
        for (String stage : STAGES) {
            assertEquals(firstMarkers.get(stage), marker(stage), stage + " checkpoint untouched");
        }
    }

    @Test
    @Order(3)
    void changingTrainingRerunsTrainAndWhatFollows() throws Exception {
        List<StageOutcome> outcomes = it.run("train.learning-rate=0.05");
        assertEquals(List.of("train", "evaluate", "export", "report"), TestPipeline.ran(outcomes));
        assertEquals(firstMarkers.get("prepare-data"), marker("prepare-data"));
        assertTrue(!firstSignatures.get("train").equals(outcomes.get(1).signature()));
    }

    @Test
    @Order(4)
    void parquetWithoutTheConfiguredColumnFailsClearlyAndHarmsNothing() throws Exception {
        Path bad = it.runDir().resolveSibling(it.runDir().getFileName() + "-bad.parquet");
        it.table("prepare-data", "test.parquet").withColumnRenamed("label", "class").write().parquet(bad.toString());
        String before = marker("prepare-data");
        byte[] trainBefore = Files.readAllBytes(it.runDir().resolve("train").resolve("model.zip"));

        Path conf = Files.createTempFile("bad", ".conf");
        Files.writeString(conf, String.join("\n", it.settings(
                "data.source=parquet",
                "data.parquet.train=\"" + bad + "\"", "data.parquet.val=\"" + bad + "\"", "data.parquet.test=\"" + bad + "\"",
                "spark.master=\"local[2]\"", "spark.conf.\"spark.ui.enabled\"=false")));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldErr = System.err;
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = SparkSlim.execute("run", conf.toString());
        } finally {
            System.setErr(oldErr);
            it.restartSpark();
        }
        String message = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, message);
        assertTrue(message.contains(bad.toString()) && message.contains("no column 'label'")
                && message.contains("data.columns.label"), message);
        assertEquals(before, marker("prepare-data"), "the complete checkpoint survives the failed run");
        assertArrayEquals(trainBefore, Files.readAllBytes(it.runDir().resolve("train").resolve("model.zip")));
    }

    /** A learning rate that makes the loss NaN stops training at once; nothing is committed, the old model stays. */
    @Test
    @Order(5)
    void divergingTrainingCommitsNothing() throws Exception {
        String before = marker("train");
        byte[] model = Files.readAllBytes(it.runDir().resolve("train").resolve("model.zip"));
        ConfigException e = assertThrows(ConfigException.class, () -> it.run("train.learning-rate=1e6"));
        assertTrue(e.getMessage().contains("stage 'train': training diverged") && e.getMessage().contains("epoch 1"),
                e.getMessage());
        assertEquals(before, marker("train"), "the complete checkpoint is untouched");
        assertArrayEquals(model, Files.readAllBytes(it.runDir().resolve("train").resolve("model.zip")));
    }
}
