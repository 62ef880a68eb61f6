package org.sparkslim.jobs.pipeline;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.sparkslim.compression.util.Suggestions;

/** The stages a pipeline can name, by name. */
public final class StageRegistry {
    private final Map<String, Stage<?>> stages = new LinkedHashMap<>();

    public StageRegistry register(Stage<?> stage) {
        if (stages.putIfAbsent(stage.name(), stage) != null) {
            throw new IllegalArgumentException("two stages named '" + stage.name() + "'");
        }
        return this;
    }

    /**
     * The stage {@code name} in {@code pipeline.stages} is: a stage of that name, or the stage its
     * section's {@code type} names. Empty, with a fault added, when it is neither.
     */
    Optional<Stage<?>> stageListedAs(String name, Config config, List<String> faults) {
        Stage<?> stage = stages.get(name);
        if (stage != null) {
            return Optional.of(stage);
        }
        String typeKey = name + ".type";
        if (config.hasPath(typeKey)) {
            String type = config.getString(typeKey);
            if (stages.containsKey(type)) {
                return Optional.of(stages.get(type));
            }
            faults.add("key '" + typeKey + "': unknown stage '" + type + "'" + Suggestions.didYouMean(type, stages.keySet())
                    + "; known stages: " + String.join(", ", stages.keySet()));
            return Optional.empty();
        }
        String suggestion = Suggestions.didYouMean(name, stages.keySet());
        faults.add("pipeline.stages: unknown stage '" + name + "'" + suggestion + "; known stages: "
                + String.join(", ", stages.keySet()) + (suggestion.isEmpty() ? "; a stage listed a second time takes a"
                + " name of its own and a section that says which stage it is, e.g. " + name + " { type = finetune }" : ""));
        return Optional.empty();
    }

    public List<Stage<?>> all() {
        return new ArrayList<>(stages.values());
    }
}
