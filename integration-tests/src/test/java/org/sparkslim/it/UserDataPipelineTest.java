package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import onnx.Onnx;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.sparkslim.compression.data.IdxReader;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.jobs.config.ConfigException;

/**
 * A user's own Parquet data of another shape, classes and normalization: three-channel images (the real
 * Fashion-MNIST images, each channel scaled differently) in five classes (pairs of Fashion-MNIST's), with
 * a mean and deviation per channel, go through training, evaluation, pruning and export.
 */
class UserDataPipelineTest {
    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-user-data-it");

    /** Writes {@code count} images from {@code first} of the training file as a 3-channel, 5-class split. */
    static Path split(SparkSession spark, LabeledImages source, int first, int count, String name) {
        int pixels = source.shape().pixels();
        List<Row> rows = new ArrayList<>();
        for (int i = first; i < first + count; i++) {
            byte[] rgb = new byte[3 * pixels];
            for (int p = 0; p < pixels; p++) {
                int v = source.pixels()[i * pixels + p] & 0xFF;
                rgb[p] = (byte) v;
                rgb[pixels + p] = (byte) (v * 2 / 3);
                rgb[2 * pixels + p] = (byte) (v / 3);
            }
            rows.add(RowFactory.create((long) i, source.labels()[i] / 2, rgb));
        }
        StructType schema = new StructType().add("id", DataTypes.LongType, false).add("label", DataTypes.IntegerType, false)
                .add("image", DataTypes.BinaryType, false);
        Path path = it.runDir().resolve("user-data").resolve(name + ".parquet");
        spark.createDataFrame(rows, schema).write().parquet(path.toString());
        return path;
    }

    @Test
    void threeChannelFiveClassDataGoesThroughEveryStage() throws Exception {
        TestPipeline.requireFashionMnist();
        LabeledImages fashion = IdxReader.readLabeled(TestPipeline.FASHION.resolve("train-images-idx3-ubyte.gz"),
                TestPipeline.FASHION.resolve("train-labels-idx1-ubyte.gz"), 10);
        SparkSession spark = TestPipeline.localSpark("sparkslim-user-data-it");
        Path train = split(spark, fashion, 0, 1500, "train");
        Path val = split(spark, fashion, 50000, 300, "val");
        Path test = split(spark, fashion, 55000, 300, "test");
        List<String> settings = List.of("pipeline.stages=[prepare-data, train, prune, evaluate, export]",
                "data.source=parquet", "data.parquet.train=\"" + train + "\"", "data.parquet.val=\"" + val + "\"",
                "data.parquet.test=\"" + test + "\"", "data.image.channels=3", "data.num-classes=5",
                "data.normalization.mean=[0.29, 0.19, 0.1]", "data.normalization.std=[0.35, 0.23, 0.12]",
                "data.partitions=3", "model.family=vgg", "model.width-multiplier=0.25", "train.epochs=1",
                "evaluate.models=[train, prune]", "prune.model=train", "prune.bn-recalibration-images=200",
                "export.models=[prune]");
        it.run(settings.toArray(String[]::new));

        ComputationGraph model = it.model("train");
        assertEquals(5, ((FeedForwardLayer) model.getOutputLayer(0).conf().getLayer()).getNOut(), "five classes");
        List<Row> metrics = it.table("evaluate", "metrics.parquet").collectAsList();
        assertEquals(2, metrics.size());
        for (Row m : metrics) {
            assertEquals(300L, m.<Long>getAs("examples"));
            assertTrue(m.<Double>getAs("top1") > 0.3, "above the 20% of chance: " + m);
        }
        Onnx.ModelProto onnx = Onnx.ModelProto.parseFrom(Files.readAllBytes(it.runDir().resolve("export/prune-model.onnx")));
        assertEquals(3, onnx.getGraph().getInput(0).getType().getTensorType().getShape().getDim(1).getDimValue(),
                "the export takes three channels");

        List<String> wrong = new ArrayList<>(settings);
        wrong.add("data.normalization.mean=[0.29, 0.19]");
        wrong.add("data.normalization.std=[0.35, 0.23]");
        ConfigException e = assertThrows(ConfigException.class, () -> it.run(wrong.toArray(String[]::new)));
        assertTrue(e.getMessage().contains("data.normalization") && e.getMessage().contains(
                "2 means and deviations for images of 3 channels"), e.getMessage());
    }
}
