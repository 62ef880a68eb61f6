package org.sparkslim.compression.train;

import java.io.IOException;
import java.util.Optional;

/**
 * Where a training keeps its state after each epoch, so that one killed mid-way resumes from its last
 * complete epoch instead of the first.
 */
public interface EpochCheckpoints {
    /** Keeps nothing: a training that starts again starts at epoch 1. */
    EpochCheckpoints NONE = new EpochCheckpoints() {
        @Override
        public Optional<TrainingState> latest() {
            return Optional.empty();
        }

        @Override
        public void save(TrainingState state) {
        }
    };

    /** The state after the last complete epoch saved, if any. */
    Optional<TrainingState> latest() throws IOException;

    /** Saves the state after an epoch; the previous one may be dropped once this one is complete. */
    void save(TrainingState state) throws IOException;
}
