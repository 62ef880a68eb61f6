package org.sparkslim.compression.distill;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a {@link FeatureLoss} compares the student with, computed from the teacher alone, one row per
 * example: a layer's activation, or a layer pair's FSP matrices. Computed on each batch while
 * training online, or once for the whole dataset and stored, for offline distillation.
 */
public sealed interface FeatureTarget extends Serializable permits FeatureTarget.Activation, FeatureTarget.FspMatrices {
    /** The teacher's layers it reads. */
    List<String> layers();

    /** Its name in stored tables and messages. */
    String key();

    /** The target of each example of a batch, {@code [n, width]}, from the teacher's activations of the batch. */
    INDArray of(Map<String, INDArray> activations);

    /** A teacher layer's activation, flattened per example. */
    record Activation(String layer) implements FeatureTarget {
        @Override
        public List<String> layers() {
            return List.of(layer);
        }

        @Override
        public String key() {
            return "activation of " + layer;
        }

        @Override
        public INDArray of(Map<String, INDArray> activations) {
            INDArray a = activations.get(layer);
            return a.dup('c').reshape('c', a.size(0), -1);
        }
    }

    /** The FSP matrices of a teacher layer pair ({@link FspVertex#matrices}), flattened per example. */
    record FspMatrices(String from, String to) implements FeatureTarget {
        @Override
        public List<String> layers() {
            return List.of(from, to);
        }

        @Override
        public String key() {
            return "FSP of " + from + " -> " + to;
        }

        @Override
        public INDArray of(Map<String, INDArray> activations) {
            return FspVertex.matrices(activations.get(from), activations.get(to));
        }
    }
}
