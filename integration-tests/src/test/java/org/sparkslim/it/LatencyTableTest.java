package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import onnx.Onnx;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.latency.LatencyTable;
import org.sparkslim.compression.latency.OnnxUnits;
import org.sparkslim.compression.latency.OpUnit;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.jobs.onnx.OnnxLatency;

/**
 * The latency-table stage times every unit of a trained model and of an untrained zoo network in ONNX
 * Runtime, writes one row per unit and batch size with its engine, machine and date, and each model's
 * estimate as the call plus its units. No timing is asserted: the machine is shared.
 */
class LatencyTableTest {
    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-latency-it",
            "pipeline.stages=[prepare-data, train, latency-table]",
            "data.limit.train=500", "data.limit.val=100", "data.limit.test=100",
            "model.family=vgg", "model.width-multiplier=0.25", "train.epochs=1",
            "latency-table.models=[train]", "latency-table.families=[mobilenetv2]",
            "latency-table.latency.batch-sizes=[1, 8]", "latency-table.latency.warmup=1",
            "latency-table.latency.runs=3");

    @Test
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
        assertEquals(Set.of("train/model 1", "train/model 8", "mobilenetv2 1", "mobilenetv2 8"), estimates.stream()
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
    }
}
