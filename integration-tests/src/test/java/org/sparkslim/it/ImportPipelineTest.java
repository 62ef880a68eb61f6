package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.jobs.config.ConfigException;

/**
 * A model trained elsewhere goes through the stages as a zoo model does: here the run's own trained
 * vgg, written to an ONNX file and imported as a foreign model, is evaluated beside the original,
 * pruned, fine-tuned and exported.
 */
class ImportPipelineTest {
    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-import-it",
            "pipeline.stages=[prepare-data, train]",
            "data.limit.train=1000", "data.limit.val=200", "data.limit.test=200", "data.partitions=3",
            "model.family=vgg", "model.width-multiplier=0.25", "train.epochs=1");

    @Test
    void anImportedModelIsEvaluatedPrunedFineTunedAndExported() throws Exception {
        TestPipeline.requireFashionMnist();
        it.run();
        Path file = it.runDir().resolve("vgg.onnx");
        Files.write(file, OnnxExporter.export(it.model("train"), new ImageShape(1, 28, 28)));
        List<String> stages = List.of("pipeline.stages=[prepare-data, train, import, evaluate, prune, finetune, export]",
                "import.file=\"" + file + "\"", "evaluate.models=[train, import]", "prune.model=import",
                "prune.strategy=uniform", "prune.target-macs-reduction=0.5", "finetune.model=prune", "finetune.epochs=1",
                "export.models=[finetune]");
        assertEquals(List.of("import", "evaluate", "prune", "finetune", "export"),
                TestPipeline.ran(it.run(stages.toArray(String[]::new))));

        List<Row> metrics = it.table("evaluate", "metrics.parquet").orderBy("stage").collectAsList();
        assertEquals(List.of("import", "train"), metrics.stream().map(r -> r.<String>getAs("stage")).toList());
        assertEquals(metrics.get(1).<Double>getAs("top1"), metrics.get(0).<Double>getAs("top1"), 1.0 / 200,
                "the imported model predicts what the original does");
        assertEquals(metrics.get(1).<Long>getAs("macs"), metrics.get(0).<Long>getAs("macs"));
        assertEquals("imported", it.table("import", "models.parquet").first().<String>getAs("family"));
        ComputationGraph pruned = it.model("prune");
        assertTrue(pruned.numParams() < it.model("import").numParams(), "pruned");
        assertTrue(Files.exists(it.runDir().resolve("export/finetune-model.onnx")), "exported after fine-tuning");

        // a model for other images fails before anything is trained, naming both shapes
        ModelFamily vgg = ModelZoo.family("vgg");
        Path rgb = it.runDir().resolve("rgb.onnx");
        Files.write(rgb, OnnxExporter.export(vgg.build(vgg.spec(vgg.baseWidths().scaled(0.25), new ImageShape(3, 32, 32),
                10, 1)), new ImageShape(3, 32, 32)));
        ConfigException shape = assertThrows(ConfigException.class, () -> it.run("pipeline.stages=[prepare-data, import]",
                "import.file=\"" + rgb + "\""));
        assertTrue(shape.getMessage().contains("takes images of 3x32x32") && shape.getMessage().contains(
                "the data (data.*) are 1x28x28"), shape.getMessage());
    }

    /**
     * A Keras file (written by TensorFlow.js's Keras implementation, untrained: a residual network)
     * is fine-tuned from its random weights, pruned, quantized and exported as int8 for ONNX Runtime.
     */
    @Test
    void aKerasModelIsFineTunedPrunedQuantizedAndExported() throws Exception {
        TestPipeline.requireFashionMnist();
        Path keras = Path.of("..", "lib-compression", "src", "test", "resources", "keras", "tfjs-residual.h5")
                .toAbsolutePath().normalize();
        List<String> stages = List.of("pipeline.stages=[prepare-data, import, finetune, prune, qat, evaluate, export]",
                "import.file=\"" + keras + "\"", "finetune.model=import", "finetune.epochs=4",
                "finetune.learning-rate=0.1", "train.batch-size=32", "prune.model=finetune", "prune.strategy=uniform",
                "prune.target-macs-reduction=0.5", "qat.model=prune", "qat.epochs=1",
                "evaluate.models=[import, finetune, qat]", "export.models=[qat]");
        assertEquals(List.of("import", "finetune", "prune", "qat", "evaluate", "export"),
                TestPipeline.ran(it.run(stages.toArray(String[]::new))));
        List<Row> metrics = it.table("evaluate", "metrics.parquet").orderBy("stage").collectAsList();
        assertEquals(List.of("finetune", "import", "qat"), metrics.stream().map(r -> r.<String>getAs("stage")).toList());
        double untrained = metrics.get(1).<Double>getAs("top1");
        double fineTuned = metrics.get(0).<Double>getAs("top1");
        assertTrue(fineTuned > untrained + 0.2, "fine-tuning taught the imported network: " + untrained + " -> " + fineTuned);
        assertTrue(metrics.get(2).<Long>getAs("macs") < metrics.get(0).<Long>getAs("macs"), "pruned");
        assertTrue(Files.exists(it.runDir().resolve("export/qat-model-int8.onnx")), "exported as int8");
    }
}
