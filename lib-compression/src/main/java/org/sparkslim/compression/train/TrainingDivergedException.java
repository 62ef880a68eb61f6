package org.sparkslim.compression.train;

/**
 * Training produced a loss or weights that are not finite numbers: nothing it made from then on is
 * worth keeping. Names where it happened and the usual cause.
 */
public class TrainingDivergedException extends RuntimeException {
    /** @param iteration the iteration within the epoch, or 0 when only the epoch is known */
    public TrainingDivergedException(String what, int epoch, int iteration, double learningRate) {
        super(String.format("training diverged: %s at epoch %d%s (learning rate %.3g); a smaller learning rate "
                + "usually avoids it", what, epoch, iteration > 0 ? ", iteration " + iteration : "", learningRate));
    }
}
