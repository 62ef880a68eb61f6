package org.sparkslim.jobs.settings;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.sparkslim.compression.train.EpochSteps;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.spark.DistributedSteps;
import org.sparkslim.jobs.spark.GradientSharingSteps;
import org.sparkslim.jobs.spark.SparkBatchSource;

/**
 * Where a training takes its steps ({@code train.distributed}): in the driver (local, the default), or
 * in the executors, one worker per task slot, either by DL4J's parameter averaging (each worker takes
 * {@code averaging-frequency} steps on its own copy before the copies and their updater states are
 * averaged) or by gradient sharing (every step's gradient computed by all workers on their parts of
 * the step's images and applied once, in the driver).
 */
public record DistributedTraining(Mode mode, int averagingFrequency) {
    public static final DistributedTraining LOCAL = new DistributedTraining(Mode.LOCAL, 1);

    public enum Mode {
        LOCAL("local", "local training"), PARAMETER_AVERAGING("parameter-averaging", "parameter averaging"),
        GRADIENT_SHARING("gradient-sharing", "gradient sharing");

        private final String key;
        private final String title;

        Mode(String key, String title) {
            this.key = key;
            this.title = title;
        }

        /** The mode as the config writes it. */
        public String key() {
            return key;
        }

        /** The mode in words, for messages. */
        public String title() {
            return title;
        }

        static List<String> keys() {
            return Arrays.stream(values()).map(Mode::key).toList();
        }

        static Mode of(String key) {
            return Arrays.stream(values()).filter(m -> m.key.equals(key)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no training mode " + key + "; one of " + keys()));
        }
    }

    public static DistributedTraining read(SettingsReader r) {
        Mode mode = Mode.of(r.choice("train.distributed.mode", Mode.keys()));
        return mode == Mode.PARAMETER_AVERAGING
                ? new DistributedTraining(mode, r.integer("train.distributed.averaging-frequency", Range.atLeast(1)))
                : new DistributedTraining(mode, 1);
    }

    public boolean local() {
        return mode == Mode.LOCAL;
    }

    /** The setting as the config writes it, for messages. */
    public String describe() {
        return "train.distributed.mode = " + mode.key;
    }

    /** The steps of each epoch in the executors, taken this way; not for local training. */
    public EpochSteps executorSteps(SparkSession spark, SparkBatchSource train, TrainingRecipe recipe, String stage) {
        return switch (mode) {
            case PARAMETER_AVERAGING -> new DistributedSteps(spark, train, recipe, averagingFrequency, stage);
            case GRADIENT_SHARING -> new GradientSharingSteps(spark, train, recipe, stage);
            case LOCAL -> throw new IllegalStateException("local training takes its steps in the driver");
        };
    }
}
