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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sparkslim.jobs.pipeline.Pipeline;
import org.sparkslim.jobs.pipeline.StageInstance;
import org.sparkslim.jobs.stages.Stages;

/** The configs in the repository's conf/ directory are what users start from: each must load as it is. */
class ShippedConfigsTest {
    private static final Path CONF = Path.of("..", "conf");

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
