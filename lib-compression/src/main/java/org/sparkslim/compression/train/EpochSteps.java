package org.sparkslim.compression.train;

import java.io.IOException;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * One epoch's optimisation steps on a network, taken in this JVM ({@link Trainer}'s own loop) or
 * elsewhere, such as on a cluster. {@link Trainer} wraps them with what every training needs: resume,
 * validation, checks for divergence, history and checkpoints.
 */
@FunctionalInterface
public interface EpochSteps {
    /** Trains {@code net} in place for one pass over the training data. */
    EpochLoss run(ComputationGraph net, int epoch) throws IOException;

    /** The mean training loss of an epoch and the number of images it saw. */
    record EpochLoss(double meanLoss, long images) {
    }
}
