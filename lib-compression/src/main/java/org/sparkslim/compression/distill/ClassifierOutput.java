package org.sparkslim.compression.distill;

import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;

/** The one output layer of a classifier taking part in distillation, checked once for teacher and student. */
final class ClassifierOutput {
    private ClassifierOutput() {
    }

    /**
     * The configuration of {@code net}'s single output layer.
     *
     * @param role "teacher" or "student", for the error message
     * @throws IllegalArgumentException when the network has several outputs or its output is not a classifier
     */
    static BaseOutputLayer of(ComputationGraph net, String role) {
        if (net.getNumOutputArrays() != 1) {
            throw new IllegalArgumentException("a " + role + " must have one output, this network has "
                    + net.getNumOutputArrays());
        }
        Layer layer = net.getOutputLayer(0).conf().getLayer();
        if (!(layer instanceof BaseOutputLayer output)) {
            throw new IllegalArgumentException("the " + role + "'s output layer '" + layer.getLayerName()
                    + "' is not a classifier: " + layer.getClass().getSimpleName());
        }
        return output;
    }
}
