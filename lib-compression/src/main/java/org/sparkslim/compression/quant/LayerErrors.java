package org.sparkslim.compression.quant;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.util.Mergeable;

/** The per-layer errors of a fake-quantized network, summed over the batches seen so far. */
public final class LayerErrors implements Mergeable<LayerErrors>, Serializable {
    private final Map<String, LayerError> errors = new LinkedHashMap<>();

    /** Adds one batch's errors ({@link QuantizationError#measure}). */
    public void observe(ComputationGraph floatFolded, ComputationGraph fakeQuantized, INDArray features) {
        QuantizationError.measure(floatFolded, fakeQuantized, features)
                .forEach((layer, e) -> errors.merge(layer, e, LayerError::merge));
    }

    @Override
    public LayerErrors merge(LayerErrors other) {
        other.errors.forEach((layer, e) -> errors.merge(layer, e, LayerError::merge));
        return this;
    }

    /** Every layer's error, in topological order. */
    public List<LayerError> list() {
        return new ArrayList<>(errors.values());
    }
}
