package org.sparkslim.jobs.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.util.Map;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.model.WidthVector;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/** The {@code model} section: a zoo family and its widths (the multiplier, then per-slot overrides). */
public record ModelSettings(ModelFamily family, WidthVector widths) {
    public static ModelSettings read(SettingsReader r) {
        return read(r, "model");
    }

    /** The same keys in another section ({@code distill.student-model}). */
    public static ModelSettings read(SettingsReader r, String section) {
        ModelFamily family = r.parsed(section + ".family", ModelZoo::family);
        double multiplier = r.number(section + ".width-multiplier", Range.POSITIVE);
        Config overrides = r.object(section + ".widths");
        if (family == null || !(multiplier > 0)) {
            return new ModelSettings(family, null);
        }
        WidthVector widths = family.baseWidths().scaled(multiplier);
        int[] values = widths.widths();
        for (Map.Entry<String, ConfigValue> e : overrides.entrySet()) {
            String slot = e.getKey().replace("\"", "");
            int index = widths.names().indexOf(slot);
            if (index < 0) {
                r.fault(section + ".widths", "'" + slot + "' is not a width slot of " + family.name() + "; its slots are "
                        + widths.names());
            } else if (!(e.getValue().unwrapped() instanceof Number n) || n.intValue() < 1
                    || n.doubleValue() != n.intValue()) {
                r.fault(section + ".widths", slot + ": expected a positive whole number, got " + e.getValue().render());
            } else {
                values[index] = n.intValue();
            }
        }
        return new ModelSettings(family, widths.withWidths(values));
    }
}
