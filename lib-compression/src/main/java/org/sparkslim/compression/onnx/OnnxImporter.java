package org.sparkslim.compression.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import onnx.Onnx;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.protobuf.InvalidProtocolBufferException;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ImportedLayers;
import org.sparkslim.compression.model.ImportedModel;

/**
 * Reads an ONNX image classifier (opset 11-17, as PyTorch's and tf2onnx's exporters write it) as a
 * DL4J {@link ComputationGraph}, one conversion per operator: Conv (plain and depthwise),
 * BatchNormalization (kept a layer of its own, so pruning and folding see it), Relu, Clip (as ReLU6),
 * LeakyRelu, Sigmoid, MaxPool, AveragePool, GlobalAveragePool, Flatten and Reshape before a dense
 * layer, Gemm, MatMul + Add, Add, Concat, Softmax, Identity, Dropout, and Constant (read as weights). Vertices are named after the
 * tensors they write. The network must end in a classifier: a dense layer, with or without Softmax,
 * becomes a softmax output layer. Anything else fails at once, naming the node, its operator and the
 * operators that convert.
 */
public final class OnnxImporter {
    /** The operators this importer converts. */
    public static final Set<String> SUPPORTED = new TreeSet<>(List.of("Constant", "Conv", "BatchNormalization", "Relu", "Clip",
            "LeakyRelu", "Sigmoid", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Gemm",
            "MatMul", "Add", "Concat", "Softmax", "Identity", "Dropout"));

    private final Onnx.GraphProto graph;
    private final Map<String, Onnx.TensorProto> initializers = new HashMap<>();
    private final Map<String, Integer> readers = new HashMap<>();
    private final Map<String, String> alias = new HashMap<>();
    /** Each vertex's output shape without the batch: [c, h, w], or [n] once flat. */
    private final Map<String, long[]> shapes = new HashMap<>();
    private final Map<String, Map<String, INDArray>> params = new LinkedHashMap<>();
    /** Each dense layer's input vertex, for the classifier that replaces the last one. */
    private final Map<String, String> denseInputs = new HashMap<>();
    private final ComputationGraphConfiguration.GraphBuilder builder;
    private final String inputName;
    private final ImageShape input;
    private String dense;
    private String output;
    private boolean softmaxed;

    private OnnxImporter(Onnx.ModelProto model) {
        this.graph = model.getGraph();
        graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        List<Onnx.ValueInfoProto> inputs = graph.getInputList().stream()
                .filter(i -> !initializers.containsKey(i.getName())).toList();
        if (inputs.size() != 1) {
            throw new IllegalArgumentException("an image classifier has one input; this model has "
                    + inputs.stream().map(Onnx.ValueInfoProto::getName).toList());
        }
        Onnx.ValueInfoProto in = inputs.get(0);
        List<Onnx.TensorShapeProto.Dimension> dims = in.getType().getTensorType().getShape().getDimList();
        if (dims.size() != 4 || dims.stream().skip(1).anyMatch(d -> !d.hasDimValue())) {
            throw new IllegalArgumentException("input '" + in.getName() + "' must be [batch, channels, height, width] with"
                    + " fixed channels, height and width; it is " + dims);
        }
        inputName = in.getName();
        input = new ImageShape((int) dims.get(1).getDimValue(), (int) dims.get(2).getDimValue(),
                (int) dims.get(3).getDimValue());
        shapes.put(inputName, new long[] {input.channels(), input.height(), input.width()});
        for (Onnx.NodeProto n : graph.getNodeList()) {
            n.getInputList().forEach(i -> readers.merge(i, 1, Integer::sum));
        }
        builder = ImportedLayers.graph(inputName, input);
    }

    /** Reads a serialized ONNX model. */
    public static ImportedModel read(byte[] model, String source) {
        try {
            return new OnnxImporter(Onnx.ModelProto.parseFrom(model)).build();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(source + " is not an ONNX model: " + e.getMessage(), e);
        }
    }

    private ImportedModel build() {
        for (Onnx.NodeProto n : graph.getNodeList()) {
            convert(n);
        }
        String last = vertex(graph.getOutput(0).getName());
        if (dense == null || !last.equals(dense) || output != null && !output.equals(last)) {
            throw new IllegalArgumentException("the model must end in a classifier (a dense layer, then Softmax or "
                    + "not); its output '" + graph.getOutput(0).getName() + "' is not one");
        }
        output = last;
        return ImportedLayers.finish(builder, output, denseInputs.get(output), params, input, !softmaxed);
    }

    private String vertex(String tensor) {
        String v = tensor;
        while (alias.containsKey(v)) {
            v = alias.get(v);
        }
        return v;
    }

    private void convert(Onnx.NodeProto n) {
        switch (n.getOpType()) {
            case "Conv" -> conv(n);
            case "BatchNormalization" -> batchNorm(n);
            case "Relu" -> activation(n, Activation.RELU.getActivationFunction());
            case "Sigmoid" -> activation(n, Activation.SIGMOID.getActivationFunction());
            case "LeakyRelu" -> activation(n, new ActivationLReLU(floatAttr(n, "alpha", 0.01f)));
            case "Clip" -> clip(n);
            case "MaxPool" -> pool(n, PoolingType.MAX);
            case "AveragePool" -> pool(n, PoolingType.AVG);
            case "GlobalAveragePool" -> globalAveragePool(n);
            case "Flatten", "Reshape" -> flatten(n);
            case "Gemm" -> gemm(n);
            case "MatMul" -> matMul(n);
            case "Add" -> add(n);
            case "Concat" -> concat(n);
            case "Softmax" -> softmax(n);
            case "Identity", "Dropout" -> alias.put(n.getOutput(0), vertex(n.getInput(0)));
            case "Constant" -> constant(n);
            default -> throw unsupported(n, "");
        }
    }

    private IllegalArgumentException unsupported(Onnx.NodeProto n, String why) {
        return new IllegalArgumentException("cannot import node '" + n.getName() + "' (" + n.getOpType()
                + (why.isEmpty() ? "" : ": " + why) + "); the importer converts " + String.join(", ", SUPPORTED));
    }

    private String in(Onnx.NodeProto n) {
        String v = vertex(n.getInput(0));
        if (!shapes.containsKey(v)) {
            throw unsupported(n, "its input '" + n.getInput(0) + "' is a constant or comes from an unconverted node");
        }
        return v;
    }

    /** A Constant node is an initializer by another name (torch writes Clip's bounds and shapes so). */
    private void constant(Onnx.NodeProto n) {
        Onnx.AttributeProto value = attr(n, "value");
        if (value == null) {
            throw unsupported(n, "a constant given other than as a tensor 'value'");
        }
        initializers.put(n.getOutput(0), value.getT().toBuilder().setName(n.getOutput(0)).build());
    }

    private void conv(Onnx.NodeProto n) {
        String x = in(n);
        long[] s = shapes.get(x);
        INDArray w = tensor(n, n.getInput(1));
        long group = intAttr(n, "group", 1);
        int[] k = {(int) w.size(2), (int) w.size(3)};
        int[] stride = ints(n, "strides", new int[] {1, 1});
        int[] dilation = ints(n, "dilations", new int[] {1, 1});
        Padding padding = padding(n, s, k, stride, dilation);
        String out = n.getOutput(0);
        Map<String, INDArray> p = new LinkedHashMap<>();
        boolean bias = n.getInputCount() > 2 && !n.getInput(2).isEmpty();
        if (group == 1) {
            builder.addLayer(out, new ConvolutionLayer.Builder(k).stride(stride).dilation(dilation)
                    .padding(padding.pads()).convolutionMode(padding.mode()).nIn(w.size(1)).nOut(w.size(0)).hasBias(bias)
                    .activation(Activation.IDENTITY).build(), x);
            p.put("W", w);
        } else if (group == s[0] && w.size(1) == 1) {
            long multiplier = w.size(0) / group;
            builder.addLayer(out, new DepthwiseConvolution2D.Builder(k).stride(stride).dilation(dilation)
                    .padding(padding.pads()).convolutionMode(padding.mode()).depthMultiplier((int) multiplier)
                    .nIn(group).nOut(w.size(0)).hasBias(bias).activation(Activation.IDENTITY).build(), x);
            // ONNX [c * m, 1, kh, kw] (output channel c * m + j) -> DL4J [kh, kw, c, m]
            p.put("W", w.reshape('c', group, multiplier, k[0], k[1]).permute(2, 3, 0, 1).dup('c'));
        } else {
            throw unsupported(n, "grouped convolution with " + group + " groups; plain and depthwise convert");
        }
        if (bias) {
            p.put("b", tensor(n, n.getInput(2)).reshape(1, w.size(0)));
        }
        params.put(out, p);
        long h = (s[1] + padding.total(0) - (dilation[0] * (k[0] - 1) + 1)) / stride[0] + 1;
        long wd = (s[2] + padding.total(1) - (dilation[1] * (k[1] - 1) + 1)) / stride[1] + 1;
        shapes.put(out, new long[] {w.size(0), h, wd});
    }

    /** DL4J's padding for ONNX pads: symmetric ones as they are, "same" ones (extra at the end) as Same mode. */
    private record Padding(int[] pads, ConvolutionMode mode, int[] totals) {
        int total(int axis) {
            return totals[axis];
        }
    }

    private Padding padding(Onnx.NodeProto n, long[] s, int[] k, int[] stride, int[] dilation) {
        String auto = stringAttr(n, "auto_pad", "NOTSET");
        int[] pads = ints(n, "pads", new int[] {0, 0, 0, 0});
        int[] totals = new int[2];
        boolean same = true;
        for (int a = 0; a < 2; a++) {
            long out = (s[a + 1] + stride[a] - 1) / stride[a];
            int need = (int) Math.max(0, (out - 1) * stride[a] + dilation[a] * (k[a] - 1) + 1 - s[a + 1]);
            if (auto.equals("SAME_UPPER") || auto.equals("SAME_LOWER")) {
                pads[a] = auto.equals("SAME_UPPER") ? need / 2 : need - need / 2;
                pads[a + 2] = need - pads[a];
            }
            totals[a] = pads[a] + pads[a + 2];
            same &= pads[a] == need / 2 && pads[a + 2] == need - need / 2;
        }
        if (pads[0] == pads[2] && pads[1] == pads[3]) {
            return new Padding(new int[] {pads[0], pads[1]}, ConvolutionMode.Truncate, totals);
        }
        if (same) {
            return new Padding(new int[] {0, 0}, ConvolutionMode.Same, totals);
        }
        throw unsupported(n, "asymmetric pads " + Arrays.toString(pads) + " other than \"same\"");
    }

    private void batchNorm(Onnx.NodeProto n) {
        String x = in(n);
        long c = shapes.get(x)[0];
        double eps = floatAttr(n, "epsilon", 1e-5f);
        String out = n.getOutput(0);
        builder.addLayer(out, ImportedLayers.batchNorm(c, eps), x);
        params.put(out, ImportedLayers.batchNormParams(tensor(n, n.getInput(1)), tensor(n, n.getInput(2)),
                tensor(n, n.getInput(3)), tensor(n, n.getInput(4))));
        shapes.put(out, shapes.get(x));
    }

    private void activation(Onnx.NodeProto n, IActivation fn) {
        String x = in(n);
        builder.addLayer(n.getOutput(0), new ActivationLayer.Builder().activation(fn).build(), x);
        shapes.put(n.getOutput(0), shapes.get(x));
    }

    /** Clip to [0, 6] is ReLU6; bounds are inputs from opset 11, attributes before. */
    private void clip(Onnx.NodeProto n) {
        float min = n.getInputCount() > 1 && !n.getInput(1).isEmpty() ? tensor(n, n.getInput(1)).getFloat(0)
                : floatAttr(n, "min", Float.NEGATIVE_INFINITY);
        float max = n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? tensor(n, n.getInput(2)).getFloat(0)
                : floatAttr(n, "max", Float.POSITIVE_INFINITY);
        if (min != 0 || max != 6) {
            throw unsupported(n, "Clip to [" + min + ", " + max + "]; Clip to [0, 6] (ReLU6) converts");
        }
        activation(n, Activation.RELU6.getActivationFunction());
    }

    private void pool(Onnx.NodeProto n, PoolingType type) {
        String x = in(n);
        long[] s = shapes.get(x);
        int[] k = ints(n, "kernel_shape", null);
        int[] stride = ints(n, "strides", new int[] {1, 1});
        if (intAttr(n, "ceil_mode", 0) != 0) {
            throw unsupported(n, "ceil_mode 1");
        }
        Padding padding = padding(n, s, k, stride, new int[] {1, 1});
        if (type == PoolingType.AVG && (padding.total(0) > 0 || padding.total(1) > 0)) {
            throw unsupported(n, "average pooling with padding");
        }
        builder.addLayer(n.getOutput(0), new SubsamplingLayer.Builder(type).kernelSize(k).stride(stride)
                .padding(padding.pads()).convolutionMode(padding.mode()).build(), x);
        shapes.put(n.getOutput(0), new long[] {s[0], (s[1] + padding.total(0) - k[0]) / stride[0] + 1,
                (s[2] + padding.total(1) - k[1]) / stride[1] + 1});
    }

    private void globalAveragePool(Onnx.NodeProto n) {
        String x = in(n);
        builder.addLayer(n.getOutput(0), new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), x);
        shapes.put(n.getOutput(0), new long[] {shapes.get(x)[0]});
    }

    /** A flattening before a dense layer: DL4J flattens [c, h, w] in the same order when the layer reads it. */
    private void flatten(Onnx.NodeProto n) {
        String x = in(n);
        long[] s = shapes.get(x);
        if (n.getOpType().equals("Reshape")) {
            INDArray target = tensor(n, n.getInput(1));
            long elements = Arrays.stream(s).reduce(1, (a, b) -> a * b);
            boolean flat = target.length() == 2 && (target.getLong(1) == -1 || target.getLong(1) == elements);
            if (!flat) {
                throw unsupported(n, "a reshape other than to [batch, " + elements + "]");
            }
        } else if (intAttr(n, "axis", 1) != 1) {
            throw unsupported(n, "Flatten at axis " + intAttr(n, "axis", 1));
        }
        alias.put(n.getOutput(0), x);
    }

    private void gemm(Onnx.NodeProto n) {
        if (intAttr(n, "transA", 0) != 0 || floatAttr(n, "alpha", 1) != 1 || floatAttr(n, "beta", 1) != 1) {
            throw unsupported(n, "transA, alpha or beta other than 0, 1, 1");
        }
        INDArray b = tensor(n, n.getInput(1));
        INDArray w = intAttr(n, "transB", 0) == 1 ? b.transpose().dup('c') : b;
        addDense(n, w, n.getInputCount() > 2 && !n.getInput(2).isEmpty() ? tensor(n, n.getInput(2)) : null);
    }

    /** MatMul by a constant is a dense layer; an Add of a constant after it is its bias. */
    private void matMul(Onnx.NodeProto n) {
        addDense(n, tensor(n, n.getInput(1)), null);
    }

    private void addDense(Onnx.NodeProto n, INDArray w, INDArray bias) {
        String x = in(n);
        long[] s = shapes.get(x);
        long in = Arrays.stream(s).reduce(1, (a, b) -> a * b);
        if (w.rank() != 2 || w.size(0) != in) {
            throw unsupported(n, "weights of shape " + Arrays.toString(w.shape()) + " for " + in + " inputs");
        }
        String out = n.getOutput(0);
        builder.addLayer(out, new DenseLayer.Builder().nIn(in).nOut(w.size(1)).hasBias(true)
                .activation(Activation.IDENTITY).build(), x);
        Map<String, INDArray> p = new LinkedHashMap<>();
        p.put("W", w);
        p.put("b", bias == null ? Nd4j.zeros(DataType.FLOAT, 1, w.size(1)) : bias.reshape(1, w.size(1)));
        params.put(out, p);
        denseInputs.put(out, x);
        shapes.put(out, new long[] {w.size(1)});
        dense = out;
    }

    private void add(Onnx.NodeProto n) {
        String a = n.getInput(0);
        String b = n.getInput(1);
        if (initializers.containsKey(a) || initializers.containsKey(b)) {
            String x = vertex(initializers.containsKey(a) ? b : a);
            INDArray constant = tensor(n, initializers.containsKey(a) ? a : b);
            if (!x.equals(dense) || !params.containsKey(x)) {
                throw unsupported(n, "an addition of a constant that is not a MatMul's bias");
            }
            params.get(x).put("b", params.get(x).get("b").add(constant.reshape(1, constant.length())));
            alias.put(n.getOutput(0), x);
            return;
        }
        String va = in(n);
        String vb = vertex(b);
        builder.addVertex(n.getOutput(0), new ElementWiseVertex(ElementWiseVertex.Op.Add), va, vb);
        shapes.put(n.getOutput(0), shapes.get(va));
    }

    private void concat(Onnx.NodeProto n) {
        if (intAttr(n, "axis", 1) != 1) {
            throw unsupported(n, "concatenation along axis " + intAttr(n, "axis", 1) + "; along channels (1) converts");
        }
        List<String> inputs = new ArrayList<>();
        long channels = 0;
        for (String i : n.getInputList()) {
            String v = vertex(i);
            inputs.add(v);
            channels += shapes.get(v)[0];
        }
        builder.addVertex(n.getOutput(0), new MergeVertex(), inputs.toArray(String[]::new));
        long[] s = shapes.get(inputs.get(0)).clone();
        s[0] = channels;
        shapes.put(n.getOutput(0), s);
    }

    /** A Softmax after the last dense layer makes it the classifier; anywhere else it is an activation. */
    private void softmax(Onnx.NodeProto n) {
        String x = in(n);
        if (x.equals(dense)) {
            alias.put(n.getOutput(0), x);
            output = x;
            softmaxed = true;
            return;
        }
        activation(n, Activation.SOFTMAX.getActivationFunction());
    }

    private INDArray tensor(Onnx.NodeProto n, String name) {
        Onnx.TensorProto t = initializers.get(name);
        if (t == null) {
            throw unsupported(n, "its input '" + name + "' must be a constant (an initializer)");
        }
        long[] dims = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        long count = Arrays.stream(dims).reduce(1, (a, b) -> a * b);
        ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return switch (Onnx.TensorProto.DataType.forNumber(t.getDataType())) {
            case FLOAT -> {
                float[] v = new float[(int) count];
                if (t.getRawData().isEmpty()) {
                    for (int i = 0; i < v.length; i++) {
                        v[i] = t.getFloatData(i);
                    }
                } else {
                    raw.asFloatBuffer().get(v);
                }
                yield Nd4j.create(v, dims.length == 0 ? new long[] {1} : dims, 'c');
            }
            case INT64 -> {
                long[] v = new long[(int) count];
                if (t.getRawData().isEmpty()) {
                    for (int i = 0; i < v.length; i++) {
                        v[i] = t.getInt64Data(i);
                    }
                } else {
                    raw.asLongBuffer().get(v);
                }
                yield Nd4j.createFromArray(v).reshape(dims.length == 0 ? new long[] {1} : dims);
            }
            default -> throw unsupported(n, "constant '" + name + "' of type "
                    + Onnx.TensorProto.DataType.forNumber(t.getDataType()) + "; float and int64 constants convert");
        };
    }

    private static Onnx.AttributeProto attr(Onnx.NodeProto n, String name) {
        return n.getAttributeList().stream().filter(a -> a.getName().equals(name)).findFirst().orElse(null);
    }

    private static long intAttr(Onnx.NodeProto n, String name, long fallback) {
        Onnx.AttributeProto a = attr(n, name);
        return a == null ? fallback : a.getI();
    }

    private static float floatAttr(Onnx.NodeProto n, String name, float fallback) {
        Onnx.AttributeProto a = attr(n, name);
        return a == null ? fallback : a.getF();
    }

    private static String stringAttr(Onnx.NodeProto n, String name, String fallback) {
        Onnx.AttributeProto a = attr(n, name);
        return a == null ? fallback : a.getS().toStringUtf8();
    }

    private int[] ints(Onnx.NodeProto n, String name, int[] fallback) {
        Onnx.AttributeProto a = attr(n, name);
        if (a == null) {
            if (fallback == null) {
                throw unsupported(n, "no " + name);
            }
            return fallback.clone();
        }
        return a.getIntsList().stream().mapToInt(Long::intValue).toArray();
    }
}
