package org.sparkslim.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.distill.FeatureLoss;
import org.sparkslim.compression.distill.FeatureLosses;
import org.sparkslim.compression.distill.TeacherLogits;
import org.sparkslim.jobs.pipeline.Pipeline;
import org.sparkslim.jobs.pipeline.StageInstance;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.ModelSettings;
import org.sparkslim.jobs.stages.DistillStage;
import org.sparkslim.jobs.stages.Stages;
import org.sparkslim.jobs.stages.TrainStage;

/** The configs in the repository's conf/ directory are what users start from: each must load as it is. */
class ShippedConfigsTest {
    private static final Path CONF = Path.of("..", "conf");
    private static final Path TORCH_FIXTURE = Path.of("..", "lib-compression", "src", "test", "resources", "onnx",
            "torch-residual.onnx");

    static Stream<Path> shippedConfigs() throws IOException {
        try (Stream<Path> files = Files.list(CONF)) {
            List<Path> confs = files.filter(f -> f.toString().endsWith(".conf")).sorted().toList();
            assertFalse(confs.isEmpty(), "no .conf files in " + CONF.toAbsolutePath());
            return confs.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("shippedConfigs")
    void loadsAndWiresItsStages(Path file) {
        Config config = RunConfig.load(file, List.of());
        if (config.getStringList("pipeline.stages").contains("import")) {
            // the model file is the user's to give (--set import.file=...); any real ONNX file stands in for it
            config = RunConfig.load(List.of(file), List.of("import.file=" + TORCH_FIXTURE.toAbsolutePath()));
        }
        List<StageInstance<?>> stages = new Pipeline(Stages.all(), "test").plan(config);
        assertFalse(stages.isEmpty(), file + " runs no stage");
        List<String> run = config.getStringList("pipeline.stages");
        for (StageInstance<?> stage : stages) {
            for (String input : stage.inputs()) {
                assertTrue(input.contains("/") || run.contains(input),
                        file + ": stage " + stage.name() + " reads " + input + ", which the pipeline does not run");
            }
        }
    }

    /** The distillation config's layer pairs exist in its teacher and student, with shapes that fit. */
    @Test
    void distillationLossesFitTheirNetworks() {
        Config config = RunConfig.load(List.of(CONF.resolve("distill-mobilenetv2.conf")), List.of());
        List<StageInstance<?>> stages = new Pipeline(Stages.all(), "test").plan(config);
        TrainStage.Settings train = (TrainStage.Settings) stages.stream().filter(s -> s.name().equals("train"))
                .findFirst().orElseThrow().settings();
        DistillStage.Settings distill = (DistillStage.Settings) stages.stream().filter(s -> s.name().equals("distill"))
                .findFirst().orElseThrow().settings();
        ComputationGraph teacher = build(train.model(), train.data());
        ComputationGraph student = build(distill.studentModel(), distill.data());
        List<FeatureLoss> losses = distill.teacher().distill().losses();
        assertEquals(2, losses.size());
        ImageShape shape = distill.data().shape();
        FeatureLosses features = new FeatureLosses(new TeacherLogits(teacher), losses, true);
        try (FeatureLosses.Attached attached = features.attachTo(student,
                InputType.convolutional(shape.height(), shape.width(), shape.channels()))) {
            assertEquals(3, attached.network().getNumOutputArrays());
        }
    }

    private static ComputationGraph build(ModelSettings model, DataSettings data) {
        return model.family().build(model.family().spec(model.widths(), data.shape(), data.numClasses(), 1));
    }

    /** conf/yarn.conf holds overrides: layered over a run's config, it wins where it speaks. */
    @Test
    void yarnOverridesLayerOverARunsConfig() {
        Config plain = RunConfig.load(List.of(CONF.resolve("prune-vgg.conf")), List.of());
        Config config = RunConfig.load(List.of(CONF.resolve("prune-vgg.conf"), CONF.resolve("yarn.conf")), List.of());
        assertEquals("hdfs:///tmp/sparkslim/runs/default", config.getString("run.dir"));
        assertEquals(32, config.getInt("data.partitions"));
        assertEquals("1", config.getString("spark.conf.\"spark.task.cpus\""));
        assertEquals(plain.getStringList("pipeline.stages"), config.getStringList("pipeline.stages"));
        assertEquals(plain.getConfig("prune"), config.getConfig("prune"));
    }
}
