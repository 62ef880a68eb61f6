package org.sparkslim.compression.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import onnx.Onnx;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.protobuf.ByteString;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.prune.UnsupportedVertexException;

/**
 * Writes a DL4J {@link ComputationGraph} as an ONNX model (opset 13) with float weights, using the
 * ONNX protobuf classes that ship with ND4J. Input {@code input} is {@code [batch, c, h, w]}; output
 * {@code output} is the classifier's probabilities. One conversion per vertex type; anything else is
 * refused with the vertex named.
 */
public final class OnnxExporter {
    public static final String INPUT = "input";
    public static final String OUTPUT = "output";
    static final int OPSET = 13;

    private final ComputationGraph net;
    private final ComputationGraphConfiguration conf;
    private final Map<String, InputType> outputTypes;
    private final Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("sparkslim");

    private OnnxExporter(ComputationGraph net, ImageShape input) {
        this.net = net;
        this.conf = net.getConfiguration();
        this.outputTypes = conf.getLayerActivationTypes(InputType.convolutional(input.height(), input.width(), input.channels()));
    }

    /** The serialized ONNX model. */
    public static byte[] export(ComputationGraph net, ImageShape input) {
        return new OnnxExporter(net, input).build(input).toByteArray();
    }

    private Onnx.ModelProto build(ImageShape input) {
        if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
            throw new IllegalArgumentException("ONNX export supports one input and one output, the network has "
                    + conf.getNetworkInputs() + " -> " + conf.getNetworkOutputs());
        }
        graph.addInput(valueInfo(INPUT, -1, input.channels(), input.height(), input.width()));
        for (String v : conf.getTopologicalOrderStr()) {
            if (!conf.getNetworkInputs().contains(v)) {
                convert(v, conf.getVertices().get(v));
            }
        }
        String last = conf.getNetworkOutputs().get(0);
        node("Identity", List.of(tensorName(last)), List.of(OUTPUT), last + "/output");
        graph.addOutput(valueInfo(OUTPUT, -1, ((FeedForwardLayer) layer(last)).getNOut()));
        return Onnx.ModelProto.newBuilder()
                .setIrVersion(7)
                .setProducerName("sparkslim")
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(graph)
                .build();
    }

    /** The ONNX tensor carrying a vertex's output: the network input keeps the name "input". */
    private String tensorName(String vertex) {
        return conf.getNetworkInputs().contains(vertex) ? INPUT : vertex;
    }

    private List<String> inputsOf(String vertex) {
        return conf.getVertexInputs().get(vertex).stream().map(this::tensorName).toList();
    }

    private Layer layer(String vertex) {
        return ((LayerVertex) conf.getVertices().get(vertex)).getLayerConf().getLayer();
    }

    private void convert(String v, GraphVertex vertex) {
        List<String> in = inputsOf(v);
        if (vertex instanceof ElementWiseVertex ew && ew.getOp() == ElementWiseVertex.Op.Add) {
            node("Add", in, List.of(v), v);
            return;
        }
        if (!(vertex instanceof LayerVertex lv)) {
            throw new UnsupportedVertexException(v, vertex.getClass().getSimpleName(), "has no ONNX conversion");
        }
        Layer layer = lv.getLayerConf().getLayer();
        String x = in.get(0);
        if (layer instanceof DepthwiseConvolution2D dw) {
            INDArray w = param(v, "W"); // [kH, kW, C, 1] -> [C, 1, kH, kW]
            String weights = initializer(v + ".W", w.permute(2, 3, 0, 1));
            conv(v, x, weights, dw, (int) dw.getNIn());
        } else if (layer instanceof ConvolutionLayer conv && layer.getClass() == ConvolutionLayer.class) {
            conv(v, x, initializer(v + ".W", param(v, "W")), conv, 1);
        } else if (layer instanceof BatchNormalization bn) {
            batchNorm(v, x, bn);
        } else if (layer instanceof ActivationLayer act) {
            activation(v, x, act.getActivationFn(), v);
        } else if (layer instanceof SubsamplingLayer pool && pool.getPoolingType() == PoolingType.MAX
                && pool.getConvolutionMode() == ConvolutionMode.Truncate) {
            node("MaxPool", List.of(x), List.of(v), v, ints("kernel_shape", pool.getKernelSize()),
                    ints("strides", pool.getStride()), ints("pads", new int[] {0, 0, 0, 0}));
        } else if (layer instanceof GlobalPoolingLayer gp && gp.getPoolingType() == PoolingType.AVG) {
            node("GlobalAveragePool", List.of(x), List.of(v + "/pooled"), v + "/pool");
            node("Flatten", List.of(v + "/pooled"), List.of(v), v, intAttr("axis", 1));
        } else if (layer instanceof DenseLayer || layer instanceof BaseOutputLayer) {
            FeedForwardLayer ff = (FeedForwardLayer) layer;
            List<String> gemmIn = new ArrayList<>(List.of(x, initializer(v + ".W", param(v, "W"))));
            if (net.getLayer(v).paramTable().containsKey("b")) {
                gemmIn.add(initializer(v + ".b", param(v, "b").reshape(ff.getNOut())));
            }
            node("Gemm", gemmIn, List.of(v + "/linear"), v + "/gemm");
            activation(v, v + "/linear", ff.getActivationFn(), v);
        } else {
            throw new UnsupportedVertexException(v, layer.getClass().getSimpleName(), "has no ONNX conversion");
        }
    }

    private void conv(String v, String x, String weights, ConvolutionLayer conv, int group) {
        InputType.InputTypeConvolutional out = (InputType.InputTypeConvolutional) outputTypes.get(v);
        InputType.InputTypeConvolutional in = (InputType.InputTypeConvolutional) outputTypes.get(conf.getVertexInputs().get(v).get(0));
        int[] k = conv.getKernelSize();
        int[] s = conv.getStride();
        int[] pads = new int[4];
        if (conv.getConvolutionMode() == ConvolutionMode.Same) {
            // DL4J's "same": total padding split with the extra row/column at the bottom/right
            int padH = Math.max(0, (int) ((out.getHeight() - 1) * s[0] + k[0] - in.getHeight()));
            int padW = Math.max(0, (int) ((out.getWidth() - 1) * s[1] + k[1] - in.getWidth()));
            pads = new int[] {padH / 2, padW / 2, padH - padH / 2, padW - padW / 2};
        } else {
            int[] p = conv.getPadding();
            pads = new int[] {p[0], p[1], p[0], p[1]};
        }
        List<String> inputs = new ArrayList<>(List.of(x, weights));
        if (net.getLayer(v).paramTable().containsKey("b")) {
            inputs.add(initializer(v + ".b", param(v, "b").reshape(conv.getNOut())));
        }
        String convOut = conv.getActivationFn() instanceof ActivationIdentity ? v : v + "/conv";
        node("Conv", inputs, List.of(convOut), v, ints("kernel_shape", k), ints("strides", s), ints("pads", pads),
                ints("dilations", conv.getDilation()), intAttr("group", group));
        if (!convOut.equals(v)) {
            activation(v, convOut, conv.getActivationFn(), v);
        }
    }

    private void batchNorm(String v, String x, BatchNormalization bn) {
        Map<String, INDArray> p = net.getLayer(v).paramTable();
        INDArray variance;
        if (p.containsKey("log10stdev")) {
            // DL4J keeps log10(std) with std = sqrt(var + eps)
            INDArray std = Transforms.exp(p.get("log10stdev").castTo(DataType.DOUBLE).mul(Math.log(10)), false);
            variance = Transforms.max(std.mul(std).sub(bn.getEps()), 0.0, false);
        } else {
            variance = p.get("var").castTo(DataType.DOUBLE);
        }
        node("BatchNormalization", List.of(x, initializer(v + ".gamma", p.get("gamma")), initializer(v + ".beta", p.get("beta")),
                        initializer(v + ".mean", p.get("mean")), initializer(v + ".var", variance.castTo(DataType.FLOAT))),
                List.of(v), v, floatAttr("epsilon", (float) bn.getEps()));
    }

    private void activation(String v, String x, IActivation fn, String out) {
        if (fn instanceof ActivationIdentity) {
            node("Identity", List.of(x), List.of(out), v + "/identity");
        } else if (fn instanceof ActivationReLU) {
            node("Relu", List.of(x), List.of(out), v + "/relu");
        } else if (fn instanceof ActivationReLU6) {
            node("Clip", List.of(x, scalar(v + ".min", 0f), scalar(v + ".max", 6f)), List.of(out), v + "/relu6");
        } else if (fn instanceof ActivationSoftmax) {
            node("Softmax", List.of(x), List.of(out), v + "/softmax", intAttr("axis", 1));
        } else {
            throw new UnsupportedVertexException(v, fn.getClass().getSimpleName(), "is an activation with no ONNX conversion");
        }
    }

    private INDArray param(String v, String key) {
        return net.getLayer(v).getParam(key);
    }

    private String initializer(String name, INDArray value) {
        INDArray f = value.castTo(DataType.FLOAT).dup('c');
        ByteBuffer bytes = ByteBuffer.allocate((int) f.length() * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : f.data().asFloat()) {
            bytes.putFloat(x);
        }
        Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name)
                .setDataType(Onnx.TensorProto.DataType.FLOAT.getNumber())
                .setRawData(ByteString.copyFrom(bytes.array()));
        for (long d : f.shape()) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return name;
    }

    private String scalar(String name, float value) {
        graph.addInitializer(Onnx.TensorProto.newBuilder().setName(name)
                .setDataType(Onnx.TensorProto.DataType.FLOAT.getNumber()).addFloatData(value));
        return name;
    }

    private void node(String op, List<String> inputs, List<String> outputs, String name, Onnx.AttributeProto... attrs) {
        Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op).setName(name)
                .addAllInput(inputs).addAllOutput(outputs);
        for (Onnx.AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        graph.addNode(n);
    }

    private static Onnx.AttributeProto ints(String name, int[] values) {
        Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INTS);
        for (int v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static Onnx.AttributeProto intAttr(String name, long value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static Onnx.AttributeProto floatAttr(String name, float value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    private static Onnx.ValueInfoProto valueInfo(String name, long... dims) {
        Onnx.TypeProto.Tensor.Builder tensor = Onnx.TypeProto.Tensor.newBuilder()
                .setElemType(Onnx.TensorProto.DataType.FLOAT.getNumber());
        Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        tensor.setShape(shape);
        return Onnx.ValueInfoProto.newBuilder().setName(name)
                .setType(Onnx.TypeProto.newBuilder().setTensorType(tensor)).build();
    }
}
