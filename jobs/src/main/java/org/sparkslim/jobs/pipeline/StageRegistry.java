package org.sparkslim.jobs.pipeline;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sparkslim.compression.util.Suggestions;

/** The stages a pipeline can name, by name. */
public final class StageRegistry {
    private final Map<String, Stage> stages = new LinkedHashMap<>();

    public StageRegistry register(Stage stage) {
        if (stages.putIfAbsent(stage.name(), stage) != null) {
            throw new IllegalArgumentException("two stages named '" + stage.name() + "'");
        }
        return this;
    }

    public Stage get(String name) {
        Stage stage = stages.get(name);
        if (stage == null) {
            throw new IllegalArgumentException("unknown stage '" + name + "' in pipeline.stages"
                    + Suggestions.didYouMean(name, stages.keySet()) + "; known stages: " + stages.keySet());
        }
        return stage;
    }

    public List<Stage> all() {
        return new ArrayList<>(stages.values());
    }
}
