package org.sparkslim.jobs.settings;

import java.util.List;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/** The {@code distill} section: soft labels at a temperature, and feature hints at named layers. */
public record DistillSettings(double temperature, double softLabelWeight, List<String> hintLayers, double hintWeight) {
    public static DistillSettings read(SettingsReader r) {
        double temperature = r.number("distill.temperature", Range.POSITIVE);
        double softLabelWeight = r.number("distill.soft-label-weight", Range.PROBABILITY);
        List<String> hintLayers = r.strings("distill.hint-layers");
        double hintWeight = hintLayers.isEmpty() ? 0 : r.number("distill.hint-weight", Range.POSITIVE);
        return new DistillSettings(temperature, softLabelWeight, hintLayers, hintWeight);
    }
}
