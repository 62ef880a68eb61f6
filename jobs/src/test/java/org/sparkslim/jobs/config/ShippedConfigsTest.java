package org.sparkslim.jobs.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
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
}
