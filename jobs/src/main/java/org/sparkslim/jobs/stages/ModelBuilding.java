package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.util.Map;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.model.WidthVector;
import org.sparkslim.jobs.config.ConfigException;

/** Reads the {@code model} section: a family and its widths (multiplier, then per-slot overrides). */
final class ModelBuilding {
    private ModelBuilding() {
    }

    static ModelFamily family(Config c) {
        try {
            return ModelZoo.family(c.getString("model.family"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("model.family: " + e.getMessage(), e);
        }
    }

    static WidthVector widths(Config c, ModelFamily family) {
        WidthVector widths = family.baseWidths().scaled(c.getDouble("model.width-multiplier"));
        int[] values = widths.widths();
        for (Map.Entry<String, ConfigValue> e : c.getConfig("model.widths").entrySet()) {
            String slot = e.getKey().replace("\"", "");
            int index = widths.names().indexOf(slot);
            if (index < 0) {
                throw new ConfigException("model.widths: '" + slot + "' is not a width slot of " + family.name()
                        + "; its slots are " + widths.names());
            }
            if (!(e.getValue().unwrapped() instanceof Number n) || n.intValue() < 1) {
                throw new ConfigException("model.widths." + slot + ": expected a positive integer, got "
                        + e.getValue().render());
            }
            values[index] = n.intValue();
        }
        return widths.withWidths(values);
    }
}
