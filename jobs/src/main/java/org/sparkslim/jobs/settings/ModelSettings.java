package org.sparkslim.jobs.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.model.MobileNetV2;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.model.WidthVector;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.tables.ArchitectureFiles;

/**
 * The {@code model} section: a zoo family and its widths (the multiplier, then per-slot overrides),
 * or, for {@code mobilenetv2}, the layout a Light-NAS stage chose ({@code architecture}) scaled by the
 * multiplier.
 *
 * @param widths       null with an architecture: its slots are known when the search's checkpoint is read
 * @param architecture the {@code nas} stage whose layout is built, or empty for the zoo's
 */
public record ModelSettings(ModelFamily family, WidthVector widths, double multiplier, String architecture) {
    /** A network built from these settings, with the family and widths its checkpoint records. */
    public record Built(ComputationGraph net, String family, WidthVector widths) {
    }

    public static ModelSettings read(SettingsReader r) {
        return read(r, "model");
    }

    /** The same keys in another section ({@code distill.student-model}). */
    public static ModelSettings read(SettingsReader r, String section) {
        ModelFamily family = r.parsed(section + ".family", ModelZoo::family);
        double multiplier = r.number(section + ".width-multiplier", Range.POSITIVE);
        Config overrides = r.object(section + ".widths");
        String architecture = r.string(section + ".architecture");
        if (family == null || !(multiplier > 0)) {
            return new ModelSettings(family, null, multiplier, architecture);
        }
        if (!architecture.isEmpty()) {
            if (!(family instanceof MobileNetV2)) {
                r.fault(section + ".architecture", "a searched layout is a mobilenetv2; " + section + ".family is "
                        + family.name());
            }
            if (!overrides.isEmpty()) {
                r.fault(section + ".widths", "a searched layout's widths are its own; scale them with "
                        + section + ".width-multiplier");
            }
            return new ModelSettings(family, null, multiplier, architecture);
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
        return new ModelSettings(family, widths.withWidths(values), multiplier, architecture);
    }

    /** The stages the model is built from: the search whose layout it is, if any. */
    public List<String> inputs() {
        return architecture.isEmpty() ? List.of() : List.of(architecture);
    }

    /** Builds the network (weights from {@code seed}) for {@code data}'s images and classes. */
    public Built build(StageContext<?> ctx, DataSettings data, long seed) throws IOException {
        ModelFamily f = architecture.isEmpty() ? family
                : new MobileNetV2(ArchitectureFiles.read(ctx.run(), ctx.input(architecture)));
        WidthVector w = architecture.isEmpty() ? widths : f.baseWidths().scaled(multiplier);
        return new Built(f.build(f.spec(w, data.shape(), data.numClasses(), seed)), f.name(), w);
    }
}
