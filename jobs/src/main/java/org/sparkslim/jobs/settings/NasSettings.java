package org.sparkslim.jobs.settings;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.sparkslim.compression.search.ArchitectureSpace;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * The {@code nas} section: the MobileNetV2-like space, the annealing, the constraint (a fraction of
 * the zoo's {@code mobilenetv2}'s MACs or of its estimated latency), and each candidate's short
 * training (the train recipe's batch size, momentum, weight decay and augmentation, with these epochs
 * and learning rate, on the first {@code trainImages} of the train split; scored on the first
 * {@code valImages} of val).
 *
 * @param latency the latency constraint, or null for the MAC limit
 */
public record NasSettings(ArchitectureSpace space, AnnealingRoundsSettings rounds, double macLimit, LatencyLimit latency,
                          int trainImages, int valImages, int epochs, double learningRate, int threadsPerTask) {
    private static final Set<String> STAGE_KEYS = Set.of("expansions", "channels", "repeats", "kernels", "stride");

    public static NasSettings read(SettingsReader r) {
        int stem = r.integer("nas.stem", Range.atLeast(1));
        int head = r.integer("nas.head", Range.atLeast(1));
        List<? extends Config> entries = r.objects("nas.stages");
        List<ArchitectureSpace.StageChoices> stages = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            Config c = entries.get(i);
            ArchitectureSpace.StageChoices stage = r.entry("nas.stages", i, c, STAGE_KEYS,
                    () -> new ArchitectureSpace.StageChoices(ints(c, "expansions"), ints(c, "channels"), ints(c, "repeats"),
                            ints(c, "kernels"), c.getInt("stride")));
            if (stage != null) {
                stages.add(stage);
            }
        }
        if (entries.isEmpty()) {
            r.fault("nas.stages", "list at least one stage: [{ expansions, channels, repeats, kernels, stride }]");
        }
        ArchitectureSpace space = stages.size() == entries.size() && !stages.isEmpty()
                ? r.check("nas.stages", () -> new ArchitectureSpace(stem, stages, head)) : null;
        return new NasSettings(space, AnnealingRoundsSettings.read(r, "nas"),
                r.number("nas.mac-limit", Range.POSITIVE), LatencyLimit.readIfConstrained(r, "nas"),
                r.integer("nas.train-images", Range.atLeast(1)), r.integer("nas.val-images", Range.atLeast(1)),
                r.integer("nas.epochs", Range.atLeast(1)), r.number("nas.learning-rate", Range.POSITIVE),
                r.integer("nas.threads-per-task", Range.atLeast(1)));
    }

    private static int[] ints(Config c, String key) {
        return c.getIntList(key).stream().mapToInt(Integer::intValue).toArray();
    }
}
