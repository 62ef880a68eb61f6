package org.sparkslim.compression.quant;

import org.nd4j.shade.jackson.annotation.JsonProperty;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.weightnoise.IWeightNoise;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Fake-quantized weights through DL4J's weight-noise hook: every forward pass (training and
 * inference) of a convolution, depthwise or dense layer sees {@code round(W / s) * s} instead of
 * {@code W}; the gradient computed with those weights is applied to the float {@code W}, which is the
 * straight-through estimator. Biases stay float (the int8 model keeps them as int32).
 */
public class FakeQuantizedWeights implements IWeightNoise {
    @JsonProperty
    private WeightQuantizer quantizer = WeightQuantizer.CHANNEL_WISE_ABS_MAX;
    @JsonProperty
    private int bits = 8;

    public FakeQuantizedWeights() {
        // for JSON
    }

    public FakeQuantizedWeights(WeightQuantizer quantizer, int bits) {
        this.quantizer = quantizer;
        this.bits = bits;
    }

    public WeightQuantizer quantizer() {
        return quantizer;
    }

    public int bits() {
        return bits;
    }

    @Override
    public INDArray getParameter(Layer layer, String paramKey, int iteration, int epoch, boolean train,
                                 LayerWorkspaceMgr workspaceMgr) {
        INDArray p = layer.getParam(paramKey);
        if (!"W".equals(paramKey)) {
            return p;
        }
        return quantizer.fakeQuantize(p, WeightQuantizer.outputAxis(layer.conf().getLayer()), bits);
    }

    @Override
    public FakeQuantizedWeights clone() {
        return new FakeQuantizedWeights(quantizer, bits);
    }

    @Override
    public String toString() {
        return "FakeQuantizedWeights(" + quantizer.configName() + ", " + bits + " bits)";
    }
}
