package org.sparkslim.jobs.spark;

import java.util.Arrays;
import java.util.List;
import org.sparkslim.compression.util.Suggestions;

/**
 * What runs a network's forward passes where many images are scored (evaluation, sensitivity
 * variants): DL4J itself, or ONNX Runtime on the network's ONNX export. Both give the same
 * probabilities to within float rounding; a network the exporter cannot write is scored by DL4J.
 */
public enum ScoringEngine {
    DL4J("dl4j"),
    ONNX_RUNTIME("onnxruntime");

    private final String configName;

    ScoringEngine(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static ScoringEngine parse(String word) {
        for (ScoringEngine e : values()) {
            if (e.configName.equals(word)) {
                return e;
            }
        }
        List<String> words = Arrays.stream(values()).map(ScoringEngine::configName).toList();
        throw new IllegalArgumentException("'" + word + "' is not one of " + String.join(", ", words)
                + Suggestions.didYouMean(word, words));
    }
}
