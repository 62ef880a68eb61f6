package org.sparkslim.compression.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.ImageShape;

/**
 * A network read from another framework's file, in this project's own layout (channels first, each
 * batch norm and activation a layer of its own, a softmax output layer), with the image shape it
 * takes and whether the file's network ended in logits (its classifier now ends in their softmax).
 */
public record ImportedModel(ComputationGraph net, ImageShape input, boolean endedInLogits) {
}
