package org.sparkslim.compression.onnx;

import static org.sparkslim.compression.onnx.OnnxGraph.MICROSOFT;
import static org.sparkslim.compression.onnx.OnnxGraph.intAttr;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.LayerKind;
import org.sparkslim.compression.quant.FakeQuantize;
import org.sparkslim.compression.quant.FakeQuantizedWeights;
import org.sparkslim.compression.quant.WeightQuantizer;

/**
 * Writes a fake-quantized network (see {@code FakeQuantization}) with frozen ranges as a real int8
 * ONNX model in QOperator form: {@code QLinearConv} (depthwise too, as a grouped convolution),
 * {@code QGemm}, {@code QLinearAdd} and {@code QLinearGlobalAveragePool} on uint8 activations and int8
 * weights with per-channel scales and int32 biases; max pooling runs on the uint8 tensor; a ReLU or
 * ReLU6 after an int8 operation disappears into the zero point of its output. The image is quantized
 * once at the input and the classifier's {@code QGemm} returns float logits for the softmax.
 *
 * <p>Why QOperator rather than QDQ: both reach the same int8 kernels in ONNX Runtime, but QDQ gets
 * there only when the runtime's graph rewriter recognizes each DequantizeLinear -> op ->
 * QuantizeLinear pattern; a missed pattern silently runs that op in float between a dequantize and a
 * quantize. Written as QOperators, every operation is int8 by construction. A vertex the int8 form
 * does not cover (a layer left in float by a skip pattern) gets DequantizeLinear / QuantizeLinear
 * around its float conversion.
 */
public final class Int8OnnxExporter extends OnnxExporter {
    /** A tensor on an int8 grid: its uint8 values, scale and zero point. */
    private record Quantized(String tensor, double scale, int zeroPoint, String scaleName, String zeroPointName) {
        boolean sameGrid(FakeQuantize q) {
            return scale == q.scale() && zeroPoint == q.grid().zeroPoint();
        }
    }

    /** Vertices whose output lives on an int8 grid (the others are float, named as the vertex). */
    private final Map<String, Quantized> quantized = new HashMap<>();
    /** Float copies of int8 tensors, made once for the float operations that read them. */
    private final Map<String, String> dequantized = new HashMap<>();

    /** The vertices reading each vertex. */
    private final Map<String, List<String>> readers = new HashMap<>();

    private Int8OnnxExporter(ComputationGraph net, ImageShape input) {
        super(net, input);
        conf.getVertexInputs().forEach((reader, in) ->
                in.forEach(v -> readers.computeIfAbsent(v, k -> new ArrayList<>()).add(reader)));
    }

    /** The serialized int8 ONNX model of a fake-quantized network whose quantizers are all frozen. */
    public static byte[] export(ComputationGraph fakeQuantized, ImageShape input) {
        requireFrozen8Bit(fakeQuantized);
        return new Int8OnnxExporter(fakeQuantized, input).build();
    }

    /** Refuses a network with a quantizer that is not frozen or not 8-bit. */
    static void requireFrozen8Bit(ComputationGraph fakeQuantized) {
        for (String v : fakeQuantized.getConfiguration().getTopologicalOrderStr()) {
            if (fakeQuantized.getConfiguration().getVertices().get(v) instanceof LayerVertex
                    && fakeQuantized.getLayer(v).conf().getLayer() instanceof FakeQuantize q) {
                if (!q.frozen()) {
                    throw new IllegalArgumentException(
                            "quantizer " + v + " is not frozen; freeze the ranges before an int8 export");
                }
                if (q.grid().bits() != 8) {
                    throw new IllegalArgumentException("quantizer " + v + " uses " + q.grid().bits()
                            + "-bit activations; the int8 model needs 8");
                }
            }
        }
    }

    @Override
    protected void convert(String v, GraphVertex vertex) {
        List<String> in = conf.getVertexInputs().get(v);
        Layer layer = LayerKind.layerOf(vertex);
        if (layer instanceof FakeQuantize q) {
            quantize(v, in.get(0), q);
        } else if (!in.stream().allMatch(quantized::containsKey) || !convertQuantized(v, vertex, layer, in)) {
            convertFloat(v, vertex, floatInputs(in));
        }
    }

    /** Writes {@code v} as int8 operations on its int8 inputs, when it has an int8 form here; false otherwise. */
    private boolean convertQuantized(String v, GraphVertex vertex, Layer layer, List<String> in) {
        FakeQuantize outputGrid = outputQuantizer(v);
        Quantized x = quantized.get(in.get(0));
        FakeQuantizedWeights w = layer instanceof BaseLayer b && b.getWeightNoise() instanceof FakeQuantizedWeights fq
                ? fq : null;
        switch (LayerKind.of(vertex)) {
            case CONVOLUTION, DEPTHWISE_CONVOLUTION -> {
                if (w == null || outputGrid == null) {
                    return false;
                }
                qlinearConv(v, x, (ConvolutionLayer) layer, w, outputGrid);
            }
            case DENSE, OUTPUT -> {
                if (w == null) {
                    return false;
                }
                qgemm(v, x, (FeedForwardLayer) layer, w, outputGrid);
            }
            case ADD -> {
                if (outputGrid == null) {
                    return false;
                }
                Quantized b = quantized.get(in.get(1));
                Quantized c = grid(v, outputGrid);
                g.node(MICROSOFT, "QLinearAdd", List.of(x.tensor(), x.scaleName(), x.zeroPointName(), b.tensor(),
                        b.scaleName(), b.zeroPointName(), c.scaleName(), c.zeroPointName()), List.of(v), v);
                quantized.put(v, c);
            }
            case GLOBAL_AVG_POOL -> {
                if (outputGrid == null) {
                    return false;
                }
                Quantized y = grid(v, outputGrid);
                g.node(MICROSOFT, "QLinearGlobalAveragePool", List.of(x.tensor(), x.scaleName(), x.zeroPointName(),
                        y.scaleName(), y.zeroPointName()), List.of(v + "/pooled"), v + "/pool", intAttr("channels_last", 0));
                g.node("Flatten", List.of(v + "/pooled"), List.of(v), v, intAttr("axis", 1));
                quantized.put(v, y);
            }
            case MAX_POOL -> {
                maxPool(v, x.tensor(), v, (SubsamplingLayer) layer);
                quantized.put(v, rename(x, v));
            }
            case ACTIVATION -> {
                if (!isClampOf(((ActivationLayer) layer).getActivationFn(), x)) {
                    return false;
                }
                // the grid's zero point already clamps at 0 (and its top at or below 6): nothing to compute
                quantized.put(v, x);
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    @Override
    protected String floatTensor(String vertex) {
        Quantized q = quantized.get(vertex);
        if (q == null) {
            return super.floatTensor(vertex);
        }
        return dequantized.computeIfAbsent(vertex, v -> {
            String name = v + "/dequantized";
            g.node("DequantizeLinear", List.of(q.tensor(), q.scaleName(), q.zeroPointName()), List.of(name), name);
            return name;
        });
    }

    private List<String> floatInputs(List<String> in) {
        return in.stream().map(this::floatTensor).toList();
    }

    /** A quantizer vertex: free when its input already is on its grid, otherwise a QuantizeLinear. */
    private void quantize(String v, String source, FakeQuantize q) {
        Quantized in = quantized.get(source);
        if (in != null && in.sameGrid(q)) {
            quantized.put(v, in);
            return;
        }
        Quantized out = grid(v, q);
        g.node("QuantizeLinear", List.of(floatTensor(source), out.scaleName(), out.zeroPointName()), List.of(v), v);
        quantized.put(v, out);
    }

    /**
     * The quantizer an operation's result ends in, following single readers through ReLU, ReLU6,
     * identity and max pooling; null when there is none (the classifier).
     */
    private FakeQuantize outputQuantizer(String v) {
        String t = v;
        while (true) {
            List<String> following = readers.getOrDefault(t, List.of());
            if (following.size() != 1 || conf.getNetworkOutputs().contains(t)) {
                return null;
            }
            String next = following.get(0);
            Layer layer = LayerKind.layerOf(conf.getVertices().get(next));
            if (layer instanceof FakeQuantize q) {
                return q;
            }
            LayerKind kind = LayerKind.of(conf.getVertices().get(next));
            boolean passThrough = (kind == LayerKind.ACTIVATION && isClamp(((ActivationLayer) layer).getActivationFn()))
                    || kind == LayerKind.MAX_POOL;
            if (!passThrough) {
                return null;
            }
            t = next;
        }
    }

    private static boolean isClamp(IActivation fn) {
        return fn instanceof ActivationReLU || fn instanceof ActivationReLU6 || fn instanceof ActivationIdentity;
    }

    /** Whether an activation changes nothing on values of grid {@code q}. */
    private static boolean isClampOf(IActivation fn, Quantized q) {
        double top = (255 - q.zeroPoint()) * q.scale();
        return fn instanceof ActivationIdentity
                || (fn instanceof ActivationReLU && q.zeroPoint() == 0)
                || (fn instanceof ActivationReLU6 && q.zeroPoint() == 0 && top <= 6 + 1e-6);
    }

    private Quantized grid(String v, FakeQuantize q) {
        String scale = g.floatScalar(v + ".scale", (float) q.scale());
        // zero points are fixed by the grid's kind (0 or 128): one shared constant each
        String zeroPoint = g.uint8Scalar("zero_point." + q.grid().zeroPoint(), q.grid().zeroPoint());
        return new Quantized(v, q.scale(), q.grid().zeroPoint(), scale, zeroPoint);
    }

    private static Quantized rename(Quantized q, String tensor) {
        return new Quantized(tensor, q.scale(), q.zeroPoint(), q.scaleName(), q.zeroPointName());
    }

    private void qlinearConv(String v, Quantized x, ConvolutionLayer conv, FakeQuantizedWeights w, FakeQuantize output) {
        int axis = WeightQuantizer.outputAxis(conv);
        INDArray weights = param(v, "W");
        INDArray integers = w.quantizer().integers(weights, axis, w.bits());
        INDArray scales = w.quantizer().scales(weights, axis, w.bits());
        int group = 1;
        if (conv instanceof DepthwiseConvolution2D dw) {
            integers = integers.permute(DEPTHWISE_TO_ONNX);
            group = (int) dw.getNIn();
        }
        Quantized y = grid(v, output);
        List<String> inputs = new ArrayList<>(List.of(x.tensor(), x.scaleName(), x.zeroPointName(),
                g.int8s(v + ".W", integers), g.floats(v + ".W.scale", scales), g.int8Scalar("weights.zero_point", 0),
                y.scaleName(), y.zeroPointName()));
        if (hasBias(v)) {
            inputs.add(g.int32s(v + ".b", int32Bias(param(v, "b"), x.scale(), scales)));
        }
        g.node("QLinearConv", inputs, List.of(v), v, convAttributes(v, conv, group));
        quantized.put(v, y);
    }

    /**
     * A dense layer as {@code QGemm}: int8 out when a quantizer follows, float (then the activation)
     * otherwise. QGemm wants one weight zero point per column when the scales are per column.
     */
    private void qgemm(String v, Quantized x, FeedForwardLayer ff, FakeQuantizedWeights w, FakeQuantize output) {
        INDArray weights = param(v, "W"); // [in, out]: per-column scales
        INDArray integers = w.quantizer().integers(weights, 1, w.bits());
        INDArray scales = w.quantizer().scales(weights, 1, w.bits());
        List<String> inputs = new ArrayList<>(List.of(x.tensor(), x.scaleName(), x.zeroPointName(),
                g.int8s(v + ".W", integers), g.floats(v + ".W.scale", scales),
                g.int8s(v + ".W.zero_point", Nd4j.zeros(scales.length()))));
        inputs.add(hasBias(v) ? g.int32s(v + ".b", int32Bias(param(v, "b"), x.scale(), scales)) : "");
        if (output != null) {
            Quantized y = grid(v, output);
            inputs.add(y.scaleName());
            inputs.add(y.zeroPointName());
            g.node(MICROSOFT, "QGemm", inputs, List.of(v), v);
            quantized.put(v, y);
            return;
        }
        g.node(MICROSOFT, "QGemm", inputs, List.of(v + "/linear"), v + "/gemm");
        activation(v, v + "/linear", ff.getActivationFn(), v);
    }

    /** The bias in the accumulator's units: {@code round(b / (inputScale * weightScale))}. */
    static long[] int32Bias(INDArray bias, double inputScale, INDArray weightScales) {
        double[] b = bias.castTo(DataType.DOUBLE).dup().data().asDouble();
        double[] s = weightScales.castTo(DataType.DOUBLE).dup().data().asDouble();
        long[] out = new long[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = Math.round(b[i] / (inputScale * s[i]));
        }
        return out;
    }
}
