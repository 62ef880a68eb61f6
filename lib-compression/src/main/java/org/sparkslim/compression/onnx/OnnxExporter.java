package org.sparkslim.compression.onnx;

import static org.sparkslim.compression.onnx.OnnxGraph.floatAttr;
import static org.sparkslim.compression.onnx.OnnxGraph.intAttr;
import static org.sparkslim.compression.onnx.OnnxGraph.ints;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import onnx.Onnx;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.LayerKind;
import org.sparkslim.compression.quant.BatchNormFolding;

/**
 * Writes a DL4J {@link ComputationGraph} as an ONNX model (opset 13) with float weights. Input
 * {@code input} is {@code [batch, c, h, w]}; output {@code output} is the classifier's probabilities.
 * One conversion per vertex type; anything else is refused with the vertex named.
 * {@link Int8OnnxExporter} builds on it for the int8 model.
 */
public class OnnxExporter {
    public static final String INPUT = "input";
    public static final String OUTPUT = "output";

    protected final ComputationGraph net;
    protected final ComputationGraphConfiguration conf;
    protected final OnnxGraph g = new OnnxGraph();
    private final Map<String, InputType> outputTypes;
    private final ImageShape input;

    protected OnnxExporter(ComputationGraph net, ImageShape input) {
        this.net = net;
        this.conf = net.getConfiguration();
        this.input = input;
        this.outputTypes = conf.getLayerActivationTypes(InputType.convolutional(input.height(), input.width(), input.channels()));
    }

    /** The serialized ONNX model. */
    public static byte[] export(ComputationGraph net, ImageShape input) {
        return new OnnxExporter(net, input).build();
    }

    protected final byte[] build() {
        if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
            throw new IllegalArgumentException("ONNX export supports one input and one output, the network has "
                    + conf.getNetworkInputs() + " -> " + conf.getNetworkOutputs());
        }
        g.input(INPUT, -1, input.channels(), input.height(), input.width());
        for (String v : conf.getTopologicalOrderStr()) {
            if (!conf.getNetworkInputs().contains(v)) {
                convert(v, conf.getVertices().get(v));
            }
        }
        String last = conf.getNetworkOutputs().get(0);
        if (!last.equals(OUTPUT)) {
            // an imported network's classifier may already carry the name
            g.node("Identity", List.of(floatTensor(last)), List.of(OUTPUT), last + "/output");
        }
        g.output(OUTPUT, -1, ((FeedForwardLayer) layer(last)).getNOut());
        return g.model().toByteArray();
    }

    /** Converts one vertex; the float exporter converts every vertex in float. */
    protected void convert(String v, GraphVertex vertex) {
        convertFloat(v, vertex, conf.getVertexInputs().get(v).stream().map(this::floatTensor).toList());
    }

    /** The ONNX tensor holding a vertex's output in float: the network input keeps the name "input". */
    protected String floatTensor(String vertex) {
        return conf.getNetworkInputs().contains(vertex) ? INPUT : vertex;
    }

    protected Layer layer(String vertex) {
        return ((LayerVertex) conf.getVertices().get(vertex)).getLayerConf().getLayer();
    }

    /** Writes vertex {@code v} as float operations reading the float tensors {@code in}; its output is named {@code v}. */
    protected final void convertFloat(String v, GraphVertex vertex, List<String> in) {
        Layer layer = LayerKind.layerOf(vertex);
        String x = in.get(0);
        switch (LayerKind.of(vertex)) {
            case ADD -> g.node("Add", in, List.of(v), v);
            case DEPTHWISE_CONVOLUTION -> {
                DepthwiseConvolution2D dw = (DepthwiseConvolution2D) layer;
                conv(v, x, weights(v, DEPTHWISE_TO_ONNX), dw, (int) dw.getNIn());
            }
            case CONVOLUTION -> conv(v, x, weights(v, null), (ConvolutionLayer) layer, 1);
            case BATCH_NORM -> batchNorm(v, x, (BatchNormalization) layer);
            case ACTIVATION -> activation(v, x, ((ActivationLayer) layer).getActivationFn(), v);
            case MAX_POOL -> {
                SubsamplingLayer pool = (SubsamplingLayer) layer;
                if (pool.getConvolutionMode() != ConvolutionMode.Truncate) {
                    throw new UnsupportedLayerException(v, "max pooling in convolution mode " + pool.getConvolutionMode());
                }
                maxPool(v, x, v, pool);
            }
            case OTHER_POOL -> {
                SubsamplingLayer pool = (SubsamplingLayer) layer;
                if (pool.getPoolingType() != PoolingType.AVG || pool.getConvolutionMode() != ConvolutionMode.Truncate
                        || pool.getPadding()[0] != 0 || pool.getPadding()[1] != 0) {
                    throw new UnsupportedLayerException(v, pool.getPoolingType() + " pooling in convolution mode "
                            + pool.getConvolutionMode() + " with padding " + Arrays.toString(pool.getPadding()));
                }
                g.node("AveragePool", List.of(x), List.of(v), v, ints("kernel_shape", pool.getKernelSize()),
                        ints("strides", pool.getStride()), ints("pads", new int[] {0, 0, 0, 0}));
            }
            case CONCAT -> g.node("Concat", in, List.of(v), v, intAttr("axis", 1));
            case GLOBAL_AVG_POOL -> {
                g.node("GlobalAveragePool", List.of(x), List.of(v + "/pooled"), v + "/pool");
                g.node("Flatten", List.of(v + "/pooled"), List.of(v), v, intAttr("axis", 1));
            }
            case DENSE, OUTPUT -> {
                FeedForwardLayer ff = (FeedForwardLayer) layer;
                String flat = x;
                if (vertex instanceof LayerVertex lv && lv.getPreProcessor() instanceof CnnToFeedForwardPreProcessor) {
                    // DL4J flattens feature maps in front of a dense layer, [c, h, w] row-major as ONNX does
                    flat = v + "/flat";
                    g.node("Flatten", List.of(x), List.of(flat), v + "/flatten", intAttr("axis", 1));
                }
                List<String> gemmIn = new ArrayList<>(List.of(flat, weights(v, null)));
                if (hasBias(v)) {
                    gemmIn.add(bias(v));
                }
                g.node("Gemm", gemmIn, List.of(v + "/linear"), v + "/gemm");
                activation(v, v + "/linear", ff.getActivationFn(), v);
            }
            default -> throw new UnsupportedLayerException(v, (layer != null ? layer : vertex).getClass().getSimpleName());
        }
    }

    /** A depthwise kernel is {@code [kH, kW, C, 1]} in DL4J and {@code [C, 1, kH, kW]} in ONNX. */
    protected static final int[] DEPTHWISE_TO_ONNX = {2, 3, 0, 1};

    /** The ONNX tensor of layer {@code v}'s weights, permuted to ONNX's layout when {@code permute} is given. */
    protected String weights(String v, int[] permute) {
        INDArray w = param(v, "W");
        return g.floats(v + ".W", permute == null ? w : w.permute(permute));
    }

    /** The ONNX tensor of layer {@code v}'s bias, a vector. */
    protected String bias(String v) {
        INDArray b = param(v, "b");
        return g.floats(v + ".b", b.reshape(b.length()));
    }

    protected final void maxPool(String v, String x, String out, SubsamplingLayer pool) {
        g.node("MaxPool", List.of(x), List.of(out), v, ints("kernel_shape", pool.getKernelSize()),
                ints("strides", pool.getStride()), ints("pads", new int[] {0, 0, 0, 0}));
    }

    private void conv(String v, String x, String weights, ConvolutionLayer conv, int group) {
        List<String> inputs = new ArrayList<>(List.of(x, weights));
        if (hasBias(v)) {
            inputs.add(bias(v));
        }
        String convOut = conv.getActivationFn() instanceof ActivationIdentity ? v : v + "/conv";
        g.node("Conv", inputs, List.of(convOut), v, convAttributes(v, conv, group));
        if (!convOut.equals(v)) {
            activation(v, convOut, conv.getActivationFn(), v);
        }
    }

    /** kernel_shape, strides, pads (DL4J's "same" split as ONNX expects), dilations and group. */
    protected final Onnx.AttributeProto[] convAttributes(String v, ConvolutionLayer conv, int group) {
        InputType.InputTypeConvolutional out = (InputType.InputTypeConvolutional) outputTypes.get(v);
        InputType.InputTypeConvolutional in = (InputType.InputTypeConvolutional) inputType(v);
        int[] k = conv.getKernelSize();
        int[] s = conv.getStride();
        int[] pads;
        if (conv.getConvolutionMode() == ConvolutionMode.Same) {
            // DL4J's "same": total padding split with the extra row/column at the bottom/right
            int padH = Math.max(0, (int) ((out.getHeight() - 1) * s[0] + k[0] - in.getHeight()));
            int padW = Math.max(0, (int) ((out.getWidth() - 1) * s[1] + k[1] - in.getWidth()));
            pads = new int[] {padH / 2, padW / 2, padH - padH / 2, padW - padW / 2};
        } else {
            int[] p = conv.getPadding();
            pads = new int[] {p[0], p[1], p[0], p[1]};
        }
        return new Onnx.AttributeProto[] {ints("kernel_shape", k), ints("strides", s), ints("pads", pads),
                ints("dilations", conv.getDilation()), intAttr("group", group)};
    }

    private InputType inputType(String v) {
        String source = conf.getVertexInputs().get(v).get(0);
        return conf.getNetworkInputs().contains(source)
                ? InputType.convolutional(input.height(), input.width(), input.channels())
                : outputTypes.get(source);
    }

    private void batchNorm(String v, String x, BatchNormalization bn) {
        Map<String, INDArray> p = net.getLayer(v).paramTable();
        INDArray variance = BatchNormFolding.inferenceVariance(net.getLayer(v));
        g.node("BatchNormalization", List.of(x, g.floats(v + ".gamma", p.get("gamma")), g.floats(v + ".beta", p.get("beta")),
                        g.floats(v + ".mean", p.get("mean")), g.floats(v + ".var", variance)),
                List.of(v), v, floatAttr("epsilon", (float) bn.getEps()));
    }

    protected final void activation(String v, String x, IActivation fn, String out) {
        if (fn instanceof ActivationIdentity) {
            g.node("Identity", List.of(x), List.of(out), v + "/identity");
        } else if (fn instanceof ActivationReLU) {
            g.node("Relu", List.of(x), List.of(out), v + "/relu");
        } else if (fn instanceof ActivationReLU6) {
            g.node("Clip", List.of(x, g.floatScalar("relu6.min", 0f), g.floatScalar("relu6.max", 6f)), List.of(out),
                    v + "/relu6");
        } else if (fn instanceof ActivationLReLU leaky) {
            g.node("LeakyRelu", List.of(x), List.of(out), v + "/leaky-relu", floatAttr("alpha", (float) leaky.getAlpha()));
        } else if (fn instanceof ActivationSigmoid) {
            g.node("Sigmoid", List.of(x), List.of(out), v + "/sigmoid");
        } else if (fn instanceof ActivationSoftmax) {
            g.node("Softmax", List.of(x), List.of(out), v + "/softmax", intAttr("axis", 1));
        } else {
            throw new UnsupportedLayerException(v, "activation " + fn.getClass().getSimpleName());
        }
    }

    protected final boolean hasBias(String v) {
        return net.getLayer(v).paramTable().containsKey("b");
    }

    protected final INDArray param(String v, String key) {
        return net.getLayer(v).getParam(key);
    }
}
