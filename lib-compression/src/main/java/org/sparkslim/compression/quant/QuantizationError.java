package org.sparkslim.compression.quant;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Per-layer error of a fake-quantized network against its float original on the same inputs: each
 * weight-quantized layer's output in both networks (the float one with batch norms folded, so layer
 * outputs correspond). The error is cumulative: it includes what earlier layers contributed, which is
 * what the int8 model's accuracy feels.
 */
public final class QuantizationError {
    private QuantizationError() {
    }

    /** Layer -> its error on this batch, in topological order. */
    public static Map<String, LayerError> measure(ComputationGraph floatFolded, ComputationGraph fakeQuantized,
                                                  INDArray features) {
        Map<String, INDArray> reference = floatFolded.feedForward(features, false);
        Map<String, INDArray> quantized = fakeQuantized.feedForward(features, false);
        Map<String, LayerError> errors = new LinkedHashMap<>();
        for (String layer : FakeQuantization.quantizedLayers(fakeQuantized)) {
            errors.put(layer, LayerError.of(layer, reference.get(layer), quantized.get(layer)));
        }
        return errors;
    }
}
