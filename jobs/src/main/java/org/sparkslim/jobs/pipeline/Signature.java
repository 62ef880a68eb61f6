package org.sparkslim.jobs.pipeline;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.sparkslim.compression.model.ModelFiles;

/**
 * What a stage's checkpoint was made from: a hash of the stage's name and kind, the code's version,
 * every config key its settings read (with its value) and its inputs' signatures. Equal signatures
 * mean the checkpoint can be reused.
 */
public final class Signature {
    private Signature() {
    }

    public static String of(StageInstance<?> stage, Map<String, String> inputSignatures, String codeVersion) {
        StringBuilder text = new StringBuilder();
        text.append("stage=").append(stage.name()).append('\n');
        if (!stage.name().equals(stage.stage().name())) {
            text.append("type=").append(stage.stage().name()).append('\n');
        }
        text.append("version=").append(codeVersion).append('\n');
        stage.keysRead().forEach((key, value) -> text.append("config ").append(key).append('=').append(value).append('\n'));
        for (Map.Entry<String, String> input : new TreeMap<>(inputSignatures).entrySet()) {
            text.append("input ").append(input.getKey()).append('=').append(input.getValue()).append('\n');
        }
        return ModelFiles.sha256(text.toString().getBytes(StandardCharsets.UTF_8));
    }
}
