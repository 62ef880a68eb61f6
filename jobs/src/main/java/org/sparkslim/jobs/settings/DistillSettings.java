package org.sparkslim.jobs.settings;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.sparkslim.compression.distill.FeatureLoss;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * The {@code distill} section's losses: soft labels at a temperature, feature hints at same-named
 * layers, and L2 and FSP losses between any student and teacher layers.
 *
 * @param losses    the {@code distill.l2} and {@code distill.fsp} losses, in that order
 * @param lossKeys  where each loss is in the config ({@code distill.fsp[1]}), for messages
 */
public record DistillSettings(double temperature, double softLabelWeight, List<String> hintLayers, double hintWeight,
                              List<FeatureLoss> losses, List<String> lossKeys) {
    public static DistillSettings read(SettingsReader r) {
        double temperature = r.number("distill.temperature", Range.POSITIVE);
        double softLabelWeight = r.number("distill.soft-label-weight", Range.PROBABILITY);
        List<String> hintLayers = r.strings("distill.hint-layers");
        double hintWeight = hintLayers.isEmpty() ? 0 : r.number("distill.hint-weight", Range.POSITIVE);
        List<FeatureLoss> losses = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        List<? extends Config> l2 = r.objects("distill.l2");
        for (int i = 0; i < l2.size(); i++) {
            Config c = l2.get(i);
            FeatureLoss loss = r.entry("distill.l2", i, c, Set.of("student", "teacher", "weight"),
                    () -> new FeatureLoss.L2(c.getString("student"), c.getString("teacher"), weight(c)));
            if (loss != null) {
                losses.add(loss);
                keys.add(r.key("distill.l2") + "[" + i + "]");
            }
        }
        List<? extends Config> fsp = r.objects("distill.fsp");
        for (int i = 0; i < fsp.size(); i++) {
            Config c = fsp.get(i);
            FeatureLoss loss = r.entry("distill.fsp", i, c, Set.of("student", "teacher", "weight"), () -> {
                List<String> student = pair(c, "student");
                List<String> teacher = pair(c, "teacher");
                return new FeatureLoss.Fsp(student.get(0), student.get(1), teacher.get(0), teacher.get(1), weight(c));
            });
            if (loss != null) {
                losses.add(loss);
                keys.add(r.key("distill.fsp") + "[" + i + "]");
            }
        }
        return new DistillSettings(temperature, softLabelWeight, hintLayers, hintWeight, List.copyOf(losses),
                List.copyOf(keys));
    }

    /** Whether the student learns from the teacher's features as well as its soft labels. */
    public boolean hasFeatureLosses() {
        return !hintLayers.isEmpty() || !losses.isEmpty();
    }

    private static double weight(Config c) {
        return c.hasPath("weight") ? c.getDouble("weight") : 1.0;
    }

    private static List<String> pair(Config c, String key) {
        List<String> layers = c.getStringList(key);
        if (layers.size() != 2) {
            throw new IllegalArgumentException(key + " must name two layers [from, to], got " + layers);
        }
        return layers;
    }
}
