package org.sparkslim.jobs.settings;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.sparkslim.compression.distill.FeatureTarget;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * The feature targets a {@code soft-labels} stage stores beside the logits: teacher layers' activations
 * ({@code soft-labels.activations}) and FSP matrices of teacher layer pairs ({@code soft-labels.fsp}),
 * in that order, for offline distillation with L2 and FSP losses.
 */
public final class FeatureTargetSettings {
    public static final String ACTIVATIONS = "soft-labels.activations";
    public static final String FSP = "soft-labels.fsp";

    private FeatureTargetSettings() {
    }

    public static List<FeatureTarget> read(SettingsReader r) {
        List<FeatureTarget> targets = new ArrayList<>();
        r.strings(ACTIVATIONS).forEach(layer -> targets.add(new FeatureTarget.Activation(layer)));
        List<? extends Config> pairs = r.objects(FSP);
        for (int i = 0; i < pairs.size(); i++) {
            Config c = pairs.get(i);
            FeatureTarget pair = r.entry(FSP, i, c, Set.of("from", "to"), () -> {
                if (c.getString("from").equals(c.getString("to"))) {
                    throw new IllegalArgumentException("an FSP pair needs two different layers, got " + c.getString("from")
                            + " twice");
                }
                return new FeatureTarget.FspMatrices(c.getString("from"), c.getString("to"));
            });
            if (pair != null) {
                targets.add(pair);
            }
        }
        return List.copyOf(targets);
    }

    /** The config key a target comes from, for messages. */
    public static String keyOf(FeatureTarget target) {
        return target instanceof FeatureTarget.Activation ? ACTIVATIONS : FSP;
    }
}
