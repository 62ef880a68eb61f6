package org.sparkslim.compression.onnx;

import static org.sparkslim.compression.onnx.OnnxGraph.intAttr;

import java.util.List;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.quant.FakeQuantize;
import org.sparkslim.compression.quant.FakeQuantizedWeights;
import org.sparkslim.compression.quant.WeightQuantizer;

/**
 * The int8 model of a fake-quantized network in QDQ form: every quantized tensor as
 * {@code QuantizeLinear -> DequantizeLinear}, weights as int8 behind a per-channel
 * {@code DequantizeLinear}, biases as int32 behind one, and every operation in float between them.
 * A runtime that recognizes the patterns runs them with int8 kernels; this is the form hardware back
 * ends (TensorRT, QNN) take. SparkSlim writes {@link Int8OnnxExporter}'s QOperator form by default,
 * this one with {@code export.int8-format = qdq}; {@code sparkslim benchmark int8-format} compares them.
 */
public final class QdqOnnxExporter extends OnnxExporter {
    private QdqOnnxExporter(ComputationGraph net, ImageShape input) {
        super(net, input);
    }

    public static byte[] export(ComputationGraph fakeQuantized, ImageShape input) {
        Int8OnnxExporter.requireFrozen8Bit(fakeQuantized);
        return new QdqOnnxExporter(fakeQuantized, input).build();
    }

    @Override
    protected void convert(String v, GraphVertex vertex) {
        if (vertex instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof FakeQuantize q) {
            String scale = g.floatScalar(v + ".scale", (float) q.scale());
            String zeroPoint = g.uint8Scalar("zero_point." + q.grid().zeroPoint(), q.grid().zeroPoint());
            g.node("QuantizeLinear", List.of(floatTensor(conf.getVertexInputs().get(v).get(0)), scale, zeroPoint),
                    List.of(v + "/quantized"), v + "/quantize");
            g.node("DequantizeLinear", List.of(v + "/quantized", scale, zeroPoint), List.of(v), v + "/dequantize");
        } else {
            super.convert(v, vertex);
        }
    }

    @Override
    protected String weights(String v, int[] permute) {
        FakeQuantizedWeights w = weightQuantizer(v);
        if (w == null) {
            return super.weights(v, permute);
        }
        INDArray integers = w.quantizer().integers(param(v, "W"), WeightQuantizer.outputAxis(layer(v)), w.bits());
        INDArray scales = scales(v, w);
        String quantized = g.int8s(v + ".W", permute == null ? integers : integers.permute(permute));
        // ONNX layouts: convolutions [out, in, kH, kW] (channels on axis 0), Gemm weights [in, out] (axis 1)
        int axis = layer(v) instanceof ConvolutionLayer ? 0 : 1;
        g.node("DequantizeLinear", List.of(quantized, g.floats(v + ".W.scale", scales),
                g.int8s(v + ".W.zero_point", Nd4j.zeros(scales.length()))), List.of(v + ".W/dequantized"),
                v + ".W/dequantize", intAttr("axis", axis));
        return v + ".W/dequantized";
    }

    @Override
    protected String bias(String v) {
        FakeQuantizedWeights w = weightQuantizer(v);
        String input = conf.getVertexInputs().get(v).get(0);
        if (w == null || !(conf.getVertices().get(input) instanceof LayerVertex lv
                && lv.getLayerConf().getLayer() instanceof FakeQuantize in)) {
            return super.bias(v);
        }
        INDArray scales = scales(v, w);
        long[] integers = Int8OnnxExporter.int32Bias(param(v, "b"), in.scale(), scales);
        g.node("DequantizeLinear", List.of(g.int32s(v + ".b", integers), g.floats(v + ".b.scale", scales.mul(in.scale())),
                g.int32s(v + ".b.zero_point", new long[integers.length])), List.of(v + ".b/dequantized"),
                v + ".b/dequantize", intAttr("axis", 0));
        return v + ".b/dequantized";
    }

    private INDArray scales(String v, FakeQuantizedWeights w) {
        return w.quantizer().scales(param(v, "W"), WeightQuantizer.outputAxis(layer(v)), w.bits());
    }

    private FakeQuantizedWeights weightQuantizer(String v) {
        Layer layer = layer(v);
        return layer instanceof BaseLayer b && b.getWeightNoise() instanceof FakeQuantizedWeights w ? w : null;
    }
}
