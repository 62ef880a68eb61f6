package org.sparkslim.jobs.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.typesafe.config.Config;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sparkslim.jobs.config.RunConfig;
import org.sparkslim.jobs.config.SettingsReader;

class SignatureTest {
    static final RecordingStage TRAIN = new RecordingStage("train", List.of("train", "model"), List.of("prepare-data"));

    static StageInstance<?> train(Config c) {
        return StageInstance.read("train", TRAIN, new SettingsReader(c, "train", "train"));
    }

    static String sig(List<String> overrides, Map<String, String> inputs) {
        return Signature.of(train(RunConfig.load(List.of(), overrides)), inputs, "1.0");
    }

    @Test
    void dependsOnTheKeysTheStageRead() {
        Map<String, String> in = Map.of("prepare-data", "abc");
        String base = sig(List.of(), in);
        assertEquals(base, sig(List.of(), in), "deterministic");
        assertNotEquals(base, sig(List.of("train.epochs=3"), in));
        assertNotEquals(base, sig(List.of("model.family=vgg"), in));
        assertEquals(base, sig(List.of("evaluate.batch-size=64"), in), "another stage's section does not matter");
        assertEquals(base, sig(List.of("train.epochs=15"), in), "setting a default explicitly changes nothing");
    }

    @Test
    void dependsOnInputsAndCodeVersion() {
        StageInstance<?> stage = train(RunConfig.load(List.of(), List.of()));
        String base = Signature.of(stage, Map.of("prepare-data", "abc"), "1.0");
        assertNotEquals(base, Signature.of(stage, Map.of("prepare-data", "abd"), "1.0"));
        assertNotEquals(base, Signature.of(stage, Map.of("prepare-data", "abc"), "1.1"));
    }
}
