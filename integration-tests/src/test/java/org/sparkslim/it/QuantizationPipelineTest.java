package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.sparkslim.jobs.config.ConfigException;

/**
 * Train, quantization-aware training and post-training calibration on Spark local[2], evaluation, and
 * int8 ONNX exports run by ONNX Runtime, on a slice of the real Fashion-MNIST.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QuantizationPipelineTest {
    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-quant-it",
            "pipeline.stages=[prepare-data, train, qat, ptq, evaluate, export, report]",
            "data.limit.train=2000", "data.limit.val=300", "data.limit.test=2000", "data.partitions=2",
            "model.family=vgg", "model.width-multiplier=0.5", "train.epochs=3",
            "quant.calibration-images=200", "qat.epochs=1", "ptq.calibration=percentile",
            "evaluate.models=[train, qat, ptq]", "evaluate.write-predictions=false",
            "evaluate.latency.warmup=1", "evaluate.latency.runs=3",
            "export.models=[train, qat, ptq]", "export.latency.warmup=1", "export.latency.runs=5");

    @Test
    @Order(1)
    void qatAndPtqGiveInt8ModelsThatOnnxRuntimeRunsLikeDl4j() throws Exception {
        it.run();
        for (String stage : List.of("qat", "ptq")) {
            List<Row> errors = it.table(stage, "layer-errors.parquet").collectAsList();
            // vgg: six convolutions and the classifier
            assertEquals(7, errors.size(), stage);
            for (int i = 1; i < errors.size(); i++) {
                assertTrue(errors.get(i - 1).<Double>getAs("sqnr_db") <= errors.get(i).<Double>getAs("sqnr_db"), "worst first");
            }
            assertTrue(errors.get(0).<Double>getAs("sqnr_db") > 5, stage + ": " + errors.get(0));
            assertEquals(0, it.table(stage, "ranges.parquet").where("range <= 0").count(), stage);
        }
        Row floatExport = it.table("export", "exports.parquet").where("stage = 'train'").first();
        assertEquals("onnx-float", floatExport.getAs("format"));
        for (Row r : it.table("export", "exports.parquet").where("stage != 'train'").collectAsList()) {
            assertEquals("onnx-int8", r.getAs("format"));
            assertEquals(2000, r.<Integer>getAs("test_images"));
            assertTrue(Math.abs(r.<Double>getAs("onnx_top1") - r.<Double>getAs("dl4j_top1")) <= 0.003, r.toString());
            assertTrue(r.<Long>getAs("bytes") * 3.5 < floatExport.<Long>getAs("bytes"), r + " vs " + floatExport);
            Map<Integer, Double> latency = r.getJavaMap(r.fieldIndex("latency_ms"));
            assertEquals(java.util.Set.of(1, 64), latency.keySet());
            assertTrue(Files.size(it.runDir().resolve("export").resolve(r.<String>getAs("file"))) == r.<Long>getAs("bytes"));
        }
        Dataset<Row> metrics = it.table("evaluate", "metrics.parquet");
        double dense = metrics.where("stage = 'train'").first().getAs("top1");
        for (String stage : List.of("qat", "ptq")) {
            double quantized = metrics.where("stage = '" + stage + "'").first().getAs("top1");
            assertTrue(dense > 0.5 && quantized > dense - 0.03, stage + " " + quantized + " vs float " + dense);
        }
        String report = Files.readString(it.runDir().resolve("report/report.md"));
        assertTrue(report.contains("Quantization error per layer (`qat`") && report.contains("ptq-model-int8.onnx"), report);

        // the standard QDQ form instead: checked in ONNX Runtime the same way, standard operators only
        assertEquals(List.of("export", "report"), TestPipeline.ran(it.run("export.int8-format=qdq")));
        Row qdq = it.table("export", "exports.parquet").where("stage = 'ptq'").first();
        assertEquals("onnx-int8-qdq", qdq.getAs("format"));
        assertTrue(Math.abs(qdq.<Double>getAs("onnx_top1") - qdq.<Double>getAs("dl4j_top1")) <= 0.003, qdq.toString());
        onnx.Onnx.ModelProto model = onnx.Onnx.ModelProto.parseFrom(
                Files.readAllBytes(it.runDir().resolve("export/ptq-model-int8-qdq.onnx")));
        assertTrue(model.getGraph().getNodeList().stream().allMatch(n -> n.getDomain().isEmpty()), "standard operators");
        assertTrue(model.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("DequantizeLinear")));
    }

    @Test
    @Order(2)
    void badQuantizationSettingsAreNamed() {
        ConfigException activations = assertThrows(ConfigException.class, () -> it.run("qat.activations=sometimes"));
        assertTrue(activations.getMessage().contains("qat.activations"), activations.getMessage());
        ConfigException twice = assertThrows(ConfigException.class,
                () -> it.run("pipeline.stages=[prepare-data, train, qat, ptq]", "ptq.model=qat"));
        assertTrue(twice.getMessage().contains("ptq.model") && twice.getMessage().contains("already quantized"),
                twice.getMessage());
    }
}
