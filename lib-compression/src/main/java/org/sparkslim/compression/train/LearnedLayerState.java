package org.sparkslim.compression.train;

/**
 * A layer that learns something while training besides its parameters (a fake quantizer's activation
 * range, say). {@link TrainingState} saves it with each epoch, so a resumed training continues exactly.
 */
public interface LearnedLayerState {
    double[] learnedState();

    void restoreLearnedState(double[] state);
}
