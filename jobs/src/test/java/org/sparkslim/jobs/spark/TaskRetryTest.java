package org.sparkslim.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.jobs.tables.ImageTable;

/** A task that fails is retried by Spark, and the work that uses executor models gives the same result. */
class TaskRetryTest {
    @Test
    void aFailedScoringTaskIsRetriedToTheSamePredictions() throws IOException {
        // local[2, 3]: two threads, a task may fail up to three times
        SparkSession spark = SparkSession.builder().master("local[2,3]").appName("task-retry-test")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            ImageShape shape = new ImageShape(1, 28, 28);
            ModelFamily vgg = ModelZoo.family("vgg");
            BroadcastModel model = BroadcastModel.of(spark, vgg.build(vgg.spec(vgg.baseWidths().scaled(0.25), shape, 10,
                    7)));
            BatchAssembler assembler = new BatchAssembler(shape, 10, new Normalization(0.286, 0.353));
            List<Row> rows = new ArrayList<>();
            Random random = new Random(3);
            for (int i = 0; i < 40; i++) {
                byte[] image = new byte[shape.pixels()];
                random.nextBytes(image);
                rows.add(RowFactory.create((long) i, i % 10, image));
            }
            Dataset<Row> images = spark.createDataFrame(rows, ImageTable.SCHEMA).repartition(4);
            List<Row> clean = DistributedScoring.predict(images, model, assembler, 8, 1, ScoringEngine.ONNX_RUNTIME).orderBy("id").collectAsList();

            // the failing attempt leaves a file, so the test knows it happened (local mode shares the disk)
            String failed = Files.createTempDirectory("task-retry").resolve("failed").toString();
            Dataset<Row> flaky = spark.createDataFrame(images.javaRDD().mapPartitions(partition -> {
                TaskContext task = TaskContext.get();
                if (task.partitionId() == 1 && task.attemptNumber() == 0) {
                    Files.createFile(Path.of(failed));
                    throw new IllegalStateException("injected failure");
                }
                return partition;
            }), ImageTable.SCHEMA);
            List<Row> retried = DistributedScoring.predict(flaky, model, assembler, 8, 1, ScoringEngine.ONNX_RUNTIME).orderBy("id").collectAsList();
            assertTrue(Files.exists(Path.of(failed)), "the injected failure happened");
            assertEquals(clean, retried);
        } finally {
            spark.stop();
        }
    }
}
