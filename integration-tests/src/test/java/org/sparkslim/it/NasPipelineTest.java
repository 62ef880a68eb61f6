package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.latency.LatencyTable;
import org.sparkslim.compression.model.InvertedResidualLayout;
import org.sparkslim.compression.model.MobileNetV2;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.onnx.LatencyEstimator;
import org.sparkslim.jobs.onnx.OnnxLatency;
import org.sparkslim.jobs.tables.LatencyTables;

/**
 * Light-NAS end to end: candidates trained in parallel Spark tasks under a latency limit from the
 * table the search fills, the best layout written, then built and trained by the train stage and
 * exported to ONNX (checked in ONNX Runtime). Each candidate sees 2,000 images once, so only learning at
 * all is asserted.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NasPipelineTest {
    private static final ImageShape FASHION = new ImageShape(1, 28, 28);

    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-nas-it",
            "pipeline.stages=[prepare-data, nas, train, export]",
            "data.limit.train=2000", "data.limit.val=200", "data.limit.test=100", "train.batch-size=64",
            "nas.rounds=2", "nas.candidates-per-round=2", "nas.train-images=2000", "nas.val-images=200",
            "nas.constraint=latency", "nas.latency-limit=0.8", "nas.latency-batch=1",
            "latency-table.latency.warmup=2", "latency-table.latency.runs=5",
            "model.family=mobilenetv2", "model.architecture=nas", "train.epochs=1",
            "export.models=[train]", "export.check-images=64");

    @Test
    @Order(1)
    void theBestLayoutUnderTheLimitIsTrainedAndExported() throws Exception {
        TestPipeline.requireFashionMnist();
        assertEquals(List.of("prepare-data", "nas", "train", "export"), TestPipeline.ran(it.run()));

        // every candidate under 0.8x the zoo mobilenetv2's latency, estimated from the table the search used
        LatencyTable table = LatencyTables.table(OnnxLatency.ENGINE,
                LatencyTables.UNITS.records(it.table("nas", LatencyTables.UNITS.file())));
        LatencyEstimator estimator = new LatencyEstimator(table, new OnnxLatency(0, 1, 1), FASHION, 1);
        MobileNetV2 zoo = new MobileNetV2();
        LatencyTable.Estimate reference = estimator.estimate(zoo.build(zoo.spec(zoo.baseWidths(), FASHION, 10, 1)));
        assertEquals(0, reference.timedNow(), "the search's table holds every unit of the reference");
        List<Row> trials = it.table("nas", "trials.parquet").collectAsList();
        assertEquals(4, trials.size());
        Set<String> layouts = new HashSet<>();
        for (Row t : trials) {
            double latency = t.<Double>getAs("latency_ms");
            assertTrue(latency > 0 && latency <= 0.8 * reference.millis(), "candidate at " + latency + " ms, the limit "
                    + 0.8 * reference.millis() + " ms");
            layouts.add(t.getAs("architecture"));
        }
        assertEquals(4, layouts.size(), "no candidate trained twice");

        // the train stage built the best layout: its blocks, kernels and MACs
        Row best = trials.stream().max((a, b) -> Double.compare(a.<Double>getAs("reward"), b.<Double>getAs("reward")))
                .orElseThrow();
        assertTrue(best.<Double>getAs("top1") > 0.2, "the best candidate learned nothing: " + best);
        InvertedResidualLayout layout = InvertedResidualLayout.fromJson(
                Files.readString(it.runDir().resolve("nas").resolve("architecture.json")), "architecture.json");
        assertEquals(best.<String>getAs("architecture"), layout.toString());
        ComputationGraph trained = it.model("train");
        assertEquals(best.<Long>getAs("macs"), ModelCost.of(trained, FASHION).macs());
        int block = 0;
        for (InvertedResidualLayout.StageRow row : layout.stages()) {
            block += row.repeats();
            DepthwiseConvolution2D dw = (DepthwiseConvolution2D) trained.getLayer("block" + block + ".dw").conf().getLayer();
            assertEquals(row.kernel(), dw.getKernelSize()[0]);
        }
        assertNotNull(trained.getLayer("block" + block + ".dw"));
        assertEquals(null, trained.getVertex("block" + (block + 1) + ".dw"));
        assertTrue(Files.size(it.runDir().resolve("export").resolve("train-model.onnx")) > 10_000);
    }

    @Test
    @Order(2)
    void aBadSpaceOrArchitectureFailsBeforeAnyStageRuns() {
        ConfigException kernel = assertThrows(ConfigException.class, () -> it.run(
                "nas.stages=[{expansions=[1], channels=[16], repeats=[1], kernels=[3, 4], stride=1},"
                        + " {expansions=[6], channels=[24], repeats=[1], kerenls=[3], stride=2}]"));
        assertTrue(kernel.getMessage().contains("nas.stages")
                && kernel.getMessage().contains("[0]: depthwise kernels are odd")
                && kernel.getMessage().contains("[1]: unknown [kerenls]"), kernel.getMessage());
        ConfigException family = assertThrows(ConfigException.class, () -> it.run("model.family=vgg"));
        assertTrue(family.getMessage().contains("model.architecture") && family.getMessage().contains("vgg"),
                family.getMessage());
    }
}
