package org.sparkslim.jobs.settings;

import java.util.List;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * Where a training takes its steps ({@code train.distributed}): in the driver (local, the default),
 * or in the executors by DL4J's parameter averaging, where each worker takes
 * {@code averaging-frequency} steps on its own copy before the copies and their updater states are
 * averaged.
 */
public record DistributedTraining(boolean local, int averagingFrequency) {
    public static final DistributedTraining LOCAL = new DistributedTraining(true, 1);
    static final String PARAMETER_AVERAGING = "parameter-averaging";

    public static DistributedTraining read(SettingsReader r) {
        boolean local = r.choice("train.distributed.mode", List.of("local", PARAMETER_AVERAGING)).equals("local");
        return local ? LOCAL
                : new DistributedTraining(false, r.integer("train.distributed.averaging-frequency", Range.atLeast(1)));
    }

    /** The setting as the config writes it, for messages. */
    public String describe() {
        return "train.distributed.mode = " + (local ? "local" : PARAMETER_AVERAGING);
    }
}
