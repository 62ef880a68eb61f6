package org.sparkslim.jobs.settings;

import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * What is done to a pruned model before it is scored or written: layers refitted on the first
 * {@code reconstructionImages} train images, then batch norms re-estimated on the first
 * {@code recalibrationImages} (0: not done).
 */
public record RestorationSettings(int reconstructionImages, int recalibrationImages, long seed) {
    public static RestorationSettings read(SettingsReader r) {
        int reconstruction = r.integer("prune.reconstruction-images", Range.NON_NEGATIVE);
        int recalibration = r.integer("prune.bn-recalibration-images", Range.NON_NEGATIVE);
        // the seed only chooses reconstruction's samples
        long seed = reconstruction > 0 ? r.whole("run.seed") : 0;
        return new RestorationSettings(reconstruction, recalibration, seed);
    }

    /** Whether restoring reads train images (a stage then reads {@code prepare-data}). */
    public boolean needsTrainImages() {
        return reconstructionImages > 0 || recalibrationImages > 0;
    }
}
