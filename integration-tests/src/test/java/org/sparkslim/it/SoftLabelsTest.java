package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.compression.distill.TeacherLogits;
import org.sparkslim.jobs.pipeline.StageOutcome;

/**
 * The soft-labels stage writes a teacher's logits for every train image, computed in the executors,
 * equal to the teacher's own logits computed on the driver, in either scoring engine.
 */
class SoftLabelsTest {
    private static final int TRAIN = 1500;
    private static final int CHECKED = 200;

    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-soft-labels-it",
            "pipeline.stages=[prepare-data, train, soft-labels]",
            "data.limit.train=" + TRAIN, "data.limit.val=200", "data.limit.test=200", "data.partitions=3",
            "model.family=vgg", "model.width-multiplier=0.25", "train.epochs=1");

    @Test
    void everyTrainImageGetsTheTeachersLogitsInEitherEngine() throws Exception {
        TestPipeline.requireFashionMnist();
        it.run();
        ComputationGraph teacher = it.model("train");
        List<Row> onnxRuntime = it.table("soft-labels", "soft-labels.parquet").orderBy("id").collectAsList();
        assertEquals(TRAIN, onnxRuntime.size());
        assertEquals(TRAIN, it.table("soft-labels", "soft-labels.parquet").select("id").distinct().count());
        assertEquals(0, it.table("soft-labels", "soft-labels.parquet").join(
                it.table("prepare-data", "train.parquet"), "id").where("logits is null").count());

        List<Row> images = it.table("prepare-data", "train.parquet").orderBy("id").limit(CHECKED).collectAsList();
        BatchAssembler assembler = new BatchAssembler(new ImageShape(1, 28, 28), 10, Normalization.FASHION_MNIST);
        List<byte[]> pixels = new ArrayList<>();
        images.forEach(r -> pixels.add(r.getAs("image")));
        INDArray expected = new TeacherLogits(teacher).of(assembler.features(pixels));
        double spread = expected.maxNumber().doubleValue() - expected.minNumber().doubleValue();
        assertTrue(spread > 1, "logits, not probabilities: spread " + spread);
        assertClose(expected, onnxRuntime, 1e-4);
        for (int i = 0; i < CHECKED; i++) {
            assertEquals(images.get(i).<Integer>getAs("label"), onnxRuntime.get(i).<Integer>getAs("label"));
        }

        List<StageOutcome> again = it.run("scoring.engine=dl4j");
        assertEquals(List.of("soft-labels"), TestPipeline.ran(again), "another engine is another signature");
        assertClose(expected, it.table("soft-labels", "soft-labels.parquet").orderBy("id").collectAsList(), 1e-5);
    }

    private static void assertClose(INDArray expected, List<Row> rows, double tolerance) {
        for (int i = 0; i < expected.rows(); i++) {
            List<Float> logits = rows.get(i).getList(rows.get(i).fieldIndex("logits"));
            assertEquals(expected.columns(), logits.size());
            for (int c = 0; c < logits.size(); c++) {
                double e = expected.getDouble(i, c);
                assertEquals(e, logits.get(c), tolerance * Math.max(1, Math.abs(e)), "image " + i + " class " + c);
            }
        }
    }
}
