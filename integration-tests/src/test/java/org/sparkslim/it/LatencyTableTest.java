package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import onnx.Onnx;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.latency.Dl4jUnit;
import org.sparkslim.compression.latency.Dl4jUnits;
import org.sparkslim.compression.latency.LatencyTable;
import org.sparkslim.compression.latency.OnnxUnits;
import org.sparkslim.compression.latency.OpUnit;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.onnx.OnnxLatency;

/**
 * The latency-table stage times every unit of a trained model, of its int8 form (post-training
 * quantization), of an untrained zoo network and of two Light-NAS candidates in ONNX Runtime, writes
 * one row per unit and batch size with its engine, machine and date, and each model's estimate as the
 * call plus its units; a pruning search under a latency limit reads it. Then the same in DL4J. No
 * timing is asserted: the machine is shared.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LatencyTableTest {
    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-latency-it",
            "pipeline.stages=[prepare-data, train, ptq, latency-table]",
            "data.limit.train=500", "data.limit.val=100", "data.limit.test=100",
            "model.family=vgg", "model.width-multiplier=0.25", "train.epochs=1",
            "quant.calibration-images=100", "ptq.calibration=abs_max",
            "latency-table.models=[train, ptq]", "latency-table.families=[mobilenetv2]",
            "latency-table.nas-candidates=2",
            "latency-table.latency.batch-sizes=[1, 8]", "latency-table.latency.warmup=1",
            "latency-table.latency.runs=3");

    @Test
    @Order(1)
    void everyUnitOfEveryModelHasARowAndEstimatesAddThemUp() throws Exception {
        TestPipeline.requireFashionMnist();
        it.run();
        List<Row> rows = it.table("latency-table", "latency-table.parquet").collectAsList();
        assertTrue(rows.stream().allMatch(r -> r.<String>getAs("engine").equals("onnxruntime")
                && r.<String>getAs("machine").contains("cores")
                && r.<String>getAs("measured_at").equals(LocalDate.now().toString())));
        Map<String, Double> millis = new HashMap<>();
        rows.forEach(r -> millis.put(r.<Integer>getAs("batch") + " " + r.<String>getAs("key"), r.<Double>getAs("millis")));
        assertEquals(rows.size(), millis.size(), "one row per unit and batch size");

        // the trained vgg's units, found again from its export
        Onnx.ModelProto vgg = Onnx.ModelProto.parseFrom(OnnxExporter.export(it.model("train"), new ImageShape(1, 28, 28)));
        List<OpUnit> units = OnnxUnits.of(vgg, new OnnxLatency(0, 1, 1).shapes(vgg, OnnxExporter.INPUT,
                new long[] {1, 1, 28, 28}));
        Set<String> keys = units.stream().map(OpUnit::key).collect(Collectors.toSet());
        List<Row> estimates = it.table("latency-table", "estimates.parquet").collectAsList();
        assertEquals(Set.of("train/model 1", "train/model 8", "ptq/model (int8) 1", "ptq/model (int8) 8",
                "mobilenetv2 1", "mobilenetv2 8", "nas-candidate-1 1",
                "nas-candidate-1 8", "nas-candidate-2 1", "nas-candidate-2 8"), estimates.stream()
                .map(r -> r.<String>getAs("model") + " " + r.<Integer>getAs("batch")).collect(Collectors.toSet()));
        for (int batch : new int[] {1, 8}) {
            double sum = millis.get(batch + " " + LatencyTable.CALL);
            for (String key : keys) {
                assertTrue(millis.containsKey(batch + " " + key), "no row for " + key + " at batch " + batch);
            }
            for (OpUnit u : units) {
                sum += millis.get(batch + " " + u.key());
            }
            Row estimate = estimates.stream().filter(r -> r.<String>getAs("model").equals("train/model")
                    && r.<Integer>getAs("batch") == batch).findFirst().orElseThrow();
            assertEquals(units.size(), estimate.<Integer>getAs("units"));
            assertEquals(sum, estimate.<Double>getAs("estimated_ms"), 1e-9);
            assertTrue(estimate.<Double>getAs("measured_ms") > 0);
        }
        // the int8 model's own units: convolutions on uint8 feature maps, the input's quantization
        assertTrue(millis.keySet().stream().anyMatch(k -> k.startsWith("8 QLinearConv") && k.contains("Nuint8[")),
                "no int8 convolution in the table");
        assertTrue(millis.keySet().stream().anyMatch(k -> k.startsWith("1 QuantizeLinear")),
                "no quantization of the input in the table");
    }

    @Test
    @Order(2)
    void aPruningSearchKeepsEveryCandidateUnderTheLatencyLimit() throws Exception {
        List<String> search = List.of("pipeline.stages=[prepare-data, train, ptq, latency-table, prune-search, report]",
                "prune-search.constraint=latency", "prune-search.latency-table=latency-table",
                "prune-search.latency-limit=0.9", "prune-search.latency-batch=8", "prune-search.rounds=2",
                "prune-search.candidates-per-round=2",
                "prune-search.max-images=200", "prune.scope.round-to=4", "prune.bn-recalibration-images=0");
        assertEquals(List.of("prune-search", "report"), TestPipeline.ran(it.run(search.toArray(String[]::new))));
        double dense = it.table("latency-table", "estimates.parquet").where("model = 'train/model' and batch = 8")
                .first().<Double>getAs("estimated_ms");
        List<Row> trials = it.table("prune-search", "trials.parquet").collectAsList();
        assertEquals(4, trials.size());
        for (Row t : trials) {
            double latency = t.<Double>getAs("latency_ms");
            assertTrue(latency > 0 && latency <= 0.9 * dense, "candidate at " + latency + " ms, the limit "
                    + 0.9 * dense + " ms");
            assertEquals(t.<Double>getAs("top1"), t.<Double>getAs("reward"), "the reward is top-1 at weight 0");
        }

        // the report draws the trajectory and every candidate against its latency
        for (String chart : List.of("prune-search-trajectory.png", "prune-search-candidates.png")) {
            assertTrue(Files.size(it.runDir().resolve("report").resolve(chart)) > 1000, chart);
        }

        List<String> impossible = new ArrayList<>(search);
        impossible.add("prune-search.latency-limit=0.001");
        ConfigException e = assertThrows(ConfigException.class, () -> it.run(impossible.toArray(String[]::new)));
        assertTrue(e.getMessage().contains("prune-search") && e.getMessage().contains("estimated latency at batch 8 at most"
                + " 0% of the unpruned model's"), e.getMessage());
    }

    @Test
    @Order(3)
    void inDl4jEveryVertexIsAUnit() throws Exception {
        assertEquals(List.of("latency-table"), TestPipeline.ran(it.run("latency-table.engine=dl4j")));
        List<Row> rows = it.table("latency-table", "latency-table.parquet").collectAsList();
        assertTrue(rows.stream().allMatch(r -> r.<String>getAs("engine").equals("dl4j")));
        Map<String, Double> millis = new HashMap<>();
        rows.forEach(r -> millis.put(r.<Integer>getAs("batch") + " " + r.<String>getAs("key"), r.<Double>getAs("millis")));
        List<Dl4jUnit> units = Dl4jUnits.of(it.model("train"), new ImageShape(1, 28, 28));
        Row estimate = it.table("latency-table", "estimates.parquet").where("model = 'train/model' and batch = 8")
                .first();
        double sum = millis.get("8 " + LatencyTable.CALL);
        for (Dl4jUnit u : units) {
            sum += millis.get("8 " + u.key());
        }
        assertEquals(units.size(), estimate.<Integer>getAs("units"));
        assertEquals(sum, estimate.<Double>getAs("estimated_ms"), 1e-9);
        assertTrue(estimate.<Double>getAs("measured_ms") > 0);
        assertTrue(it.table("latency-table", "estimates.parquet").where("model = 'ptq/model'").count() == 2,
                "the quantized model, fake-quantized in DL4J");
    }
}
