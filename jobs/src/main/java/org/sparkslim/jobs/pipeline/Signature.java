package org.sparkslim.jobs.pipeline;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.jobs.config.RunConfig;

/**
 * What a stage's checkpoint was made from: a hash of the stage's name, the code's version, its config
 * sections and its inputs' signatures. Equal signatures mean the checkpoint can be reused.
 */
public final class Signature {
    private Signature() {
    }

    public static String of(Stage stage, Config config, Map<String, String> inputSignatures, String codeVersion) {
        StringBuilder text = new StringBuilder();
        text.append("stage=").append(stage.name()).append('\n');
        text.append("version=").append(codeVersion).append('\n');
        for (String path : stage.configPaths()) {
            text.append("config ").append(path).append('=').append(RunConfig.canonical(config, path)).append('\n');
        }
        for (Map.Entry<String, String> input : new TreeMap<>(inputSignatures).entrySet()) {
            text.append("input ").append(input.getKey()).append('=').append(input.getValue()).append('\n');
        }
        return ModelFiles.sha256(text.toString().getBytes(StandardCharsets.UTF_8));
    }
}
