package org.sparkslim.compression.train;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * A layer that learns something while training besides its parameters (a fake quantizer's activation
 * range, say). {@link TrainingState} saves it with each epoch, so a resumed training continues exactly.
 */
public interface LearnedLayerState {
    double[] learnedState();

    void restoreLearnedState(double[] state);

    /**
     * Copies what each layer of {@code from} learned into the layer of the same name in {@code to}, as
     * parameters are copied between a network and an edited copy of it that trained in its place.
     */
    static void copy(ComputationGraph from, ComputationGraph to) {
        for (Layer layer : to.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            if (layer instanceof LearnedLayerState target && from.getConfiguration().getVertices().containsKey(name)
                    && from.getLayer(name) instanceof LearnedLayerState source) {
                target.restoreLearnedState(source.learnedState());
            }
        }
    }
}
