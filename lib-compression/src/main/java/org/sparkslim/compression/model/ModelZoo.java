package org.sparkslim.compression.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sparkslim.compression.util.Suggestions;

/** The model families SparkSlim can build by name. */
public final class ModelZoo {
    private static final Map<String, ModelFamily> FAMILIES = new LinkedHashMap<>();

    static {
        for (ModelFamily f : List.of(new ResNet20(), new Vgg(), new MobileNetV1(), new MobileNetV2())) {
            FAMILIES.put(f.name(), f);
        }
    }

    private ModelZoo() {
    }

    public static List<String> names() {
        return new ArrayList<>(FAMILIES.keySet());
    }

    public static List<ModelFamily> families() {
        return new ArrayList<>(FAMILIES.values());
    }

    public static ModelFamily family(String name) {
        ModelFamily family = FAMILIES.get(name);
        if (family == null) {
            throw new IllegalArgumentException("unknown model family '" + name + "'"
                    + Suggestions.didYouMean(name, FAMILIES.keySet()) + "; known families: " + names());
        }
        return family;
    }
}
