package org.sparkslim.compression.latency;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import onnx.Onnx;
import org.nd4j.shade.protobuf.ByteString;

/**
 * Splits an ONNX model into {@link OpUnit}s and builds a model of one unit alone, to time it. A unit
 * starts at every operation that is not element-wise; an element-wise operation joins the unit before
 * it when it reads that unit's output and nothing else reads it, which is what ONNX Runtime fuses
 * (a convolution with its batch norm and activation, a sum with its activation). Float models and int8
 * ones (QLinear operators on uint8 or int8 feature maps, as the int8 export writes them) alike.
 */
public final class OnnxUnits {
    /** Operations that follow a main operation within its unit. */
    static final Set<String> ELEMENT_WISE = Set.of("BatchNormalization", "Relu", "Clip", "LeakyRelu", "Sigmoid",
            "Identity", "Flatten", "Softmax", "Reshape", "Dropout");

    /**
     * For operations whose output is quantized: the position of the input that holds the output's zero
     * point, whose element type is the output's. Without that input a QuantizeLinear writes uint8 and a
     * QGemm float.
     */
    private static final Map<String, Integer> OUTPUT_ZERO_POINT = Map.of("QuantizeLinear", 2, "QLinearConv", 7,
            "QLinearMatMul", 7, "QLinearAdd", 7, "QLinearMul", 7, "QLinearGlobalAveragePool", 4,
            "QLinearAveragePool", 4, "QLinearConcat", 1, "QGemm", 8);

    private static final int FLOAT = Onnx.TensorProto.DataType.FLOAT.getNumber();
    private static final int UINT8 = Onnx.TensorProto.DataType.UINT8.getNumber();
    private static final int INT8 = Onnx.TensorProto.DataType.INT8.getNumber();

    private OnnxUnits() {
    }

    /**
     * The units of {@code model}, in graph order.
     *
     * @param shapes the shape at batch 1 of every activation tensor the nodes read (the graph input and
     *               every node output), e.g. from one run with all of them as outputs
     * @throws IllegalArgumentException naming a tensor without a shape
     */
    public static List<OpUnit> of(Onnx.ModelProto model, Map<String, long[]> shapes) {
        Onnx.GraphProto graph = model.getGraph();
        Map<String, Integer> types = elementTypes(model);
        Map<String, Onnx.TensorProto> initializers = new HashMap<>();
        graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        Map<String, Integer> readers = new HashMap<>();
        for (Onnx.NodeProto n : graph.getNodeList()) {
            n.getInputList().forEach(i -> readers.merge(i, 1, Integer::sum));
        }
        graph.getOutputList().forEach(o -> readers.merge(o.getName(), 1, Integer::sum));

        List<List<Onnx.NodeProto>> groups = new ArrayList<>();
        Map<String, List<Onnx.NodeProto>> endingIn = new HashMap<>();
        for (Onnx.NodeProto n : graph.getNodeList()) {
            // an element-wise node joins the unit whose output it alone reads, wherever that unit is
            List<Onnx.NodeProto> group = ELEMENT_WISE.contains(n.getOpType()) && n.getInputCount() > 0
                    && readers.getOrDefault(n.getInput(0), 0) == 1 ? endingIn.remove(n.getInput(0)) : null;
            if (group == null) {
                group = new ArrayList<>();
                groups.add(group);
            }
            group.add(n);
            endingIn.put(n.getOutput(0), group);
        }
        List<OpUnit> units = new ArrayList<>();
        for (List<Onnx.NodeProto> nodes : groups) {
            units.add(unit(nodes, initializers, shapes, types));
        }
        return units;
    }

    private static Onnx.NodeProto last(List<Onnx.NodeProto> nodes) {
        return nodes.get(nodes.size() - 1);
    }

    private static OpUnit unit(List<Onnx.NodeProto> nodes, Map<String, Onnx.TensorProto> initializers,
                               Map<String, long[]> shapes, Map<String, Integer> types) {
        Map<String, OpUnit.Input> inputs = new LinkedHashMap<>();
        List<String> produced = new ArrayList<>();
        StringBuilder key = new StringBuilder();
        for (Onnx.NodeProto n : nodes) {
            List<String> reads = new ArrayList<>();
            for (String in : n.getInputList()) {
                if (in.isEmpty()) {
                    reads.add("-");
                } else if (initializers.containsKey(in)) {
                    Onnx.TensorProto t = initializers.get(in);
                    reads.add("w" + t.getDataType() + dims(t.getDimsList().stream().mapToLong(Long::longValue).toArray()));
                } else if (produced.contains(in)) {
                    reads.add("<");
                } else {
                    long[] shape = shapes.get(in);
                    if (shape == null) {
                        throw new IllegalArgumentException("no shape for tensor '" + in + "', read by node '"
                                + n.getName() + "' (" + n.getOpType() + ")");
                    }
                    int type = types.getOrDefault(in, FLOAT);
                    inputs.put(in, new OpUnit.Input(shape, type));
                    reads.add("N" + (type == FLOAT ? "" : typeName(type))
                            + dims(Arrays.copyOfRange(shape, 1, shape.length)));
                }
            }
            key.append(key.length() == 0 ? "" : " > ").append(n.getDomain().isEmpty() ? "" : n.getDomain() + ".")
                    .append(n.getOpType()).append(attributes(n)).append('(').append(String.join(", ", reads))
                    .append(')');
            produced.addAll(n.getOutputList());
        }
        String output = last(nodes).getOutput(0);
        return new OpUnit(key.toString(), summary(nodes, inputs), List.copyOf(nodes), inputs, output,
                types.getOrDefault(output, FLOAT));
    }

    private static String typeName(int elementType) {
        Onnx.TensorProto.DataType t = Onnx.TensorProto.DataType.forNumber(elementType);
        return t == null ? "type" + elementType : t.name().toLowerCase(Locale.ROOT);
    }

    /**
     * The element type ({@link Onnx.TensorProto.DataType} number) of the graph inputs, the initializers
     * and every node output of {@code model}: a quantizing operation's output has its zero point's
     * type, a DequantizeLinear's is float, any other operation's output has its first input's type.
     */
    private static Map<String, Integer> elementTypes(Onnx.ModelProto model) {
        Onnx.GraphProto graph = model.getGraph();
        Map<String, Integer> types = new HashMap<>();
        graph.getInputList().forEach(i -> types.put(i.getName(), i.getType().getTensorType().getElemType()));
        graph.getInitializerList().forEach(t -> types.put(t.getName(), t.getDataType()));
        for (Onnx.NodeProto n : graph.getNodeList()) {
            Integer zeroPoint = OUTPUT_ZERO_POINT.get(n.getOpType());
            int type;
            if (n.getOpType().equals("DequantizeLinear")) {
                type = FLOAT;
            } else if (zeroPoint != null) {
                boolean given = n.getInputCount() > zeroPoint && !n.getInput(zeroPoint).isEmpty();
                type = given ? types.getOrDefault(n.getInput(zeroPoint), UINT8)
                        : n.getOpType().equals("QuantizeLinear") ? UINT8 : FLOAT;
            } else {
                type = n.getInputCount() == 0 ? FLOAT : types.getOrDefault(n.getInput(0), FLOAT);
            }
            n.getOutputList().forEach(o -> types.put(o, type));
        }
        return types;
    }

    private static String dims(long[] dims) {
        return Arrays.stream(dims).mapToObj(Long::toString).collect(Collectors.joining("x", "[", "]"));
    }

    private static String attributes(Onnx.NodeProto n) {
        return n.getAttributeList().stream()
                .sorted((a, b) -> a.getName().compareTo(b.getName()))
                .map(a -> a.getName() + "=" + switch (a.getType()) {
                    case INT -> Long.toString(a.getI());
                    case INTS -> a.getIntsList().toString();
                    case FLOAT -> Float.toString(a.getF());
                    case STRING -> a.getS().toStringUtf8();
                    default -> a.getType().name();
                })
                .collect(Collectors.joining(", ", "{", "}"));
    }

    private static String summary(List<Onnx.NodeProto> nodes, Map<String, OpUnit.Input> inputs) {
        StringBuilder s = new StringBuilder(nodes.get(0).getOpType());
        long[] in = inputs.isEmpty() ? null : inputs.values().iterator().next().shape();
        if (in != null) {
            s.append(" @").append(dims(Arrays.copyOfRange(in, 1, in.length)));
        }
        for (Onnx.AttributeProto a : nodes.get(0).getAttributeList()) {
            if (a.getName().equals("kernel_shape") || a.getName().equals("strides") || a.getName().equals("group")) {
                s.append(' ').append(a.getName()).append('=').append(a.getType() == Onnx.AttributeProto.AttributeType.INT
                        ? Long.toString(a.getI()) : a.getIntsList().toString());
            }
        }
        for (int i = 1; i < nodes.size(); i++) {
            s.append(" +").append(nodes.get(i).getOpType());
        }
        return s.toString();
    }

    /**
     * A model of {@code unit} alone: its nodes, the initializers they read (copied from {@code model}),
     * its activation inputs as graph inputs with a free batch dimension, its output as the graph output.
     * With {@code lead}, each feature-map input first goes through a {@link #lead} operation.
     */
    public static Onnx.ModelProto modelOf(OpUnit unit, Onnx.ModelProto model, boolean lead) {
        Onnx.GraphProto source = model.getGraph();
        Set<String> read = unit.nodes().stream().flatMap(n -> n.getInputList().stream()).collect(Collectors.toSet());
        Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("unit");
        Map<String, String> renamed = new HashMap<>();
        if (lead) {
            leads(unit, graph, renamed);
        }
        for (Onnx.NodeProto n : unit.nodes()) {
            Onnx.NodeProto.Builder b = n.toBuilder().clearInput();
            n.getInputList().forEach(i -> b.addInput(renamed.getOrDefault(i, i)));
            graph.addNode(b);
        }
        source.getInitializerList().stream().filter(t -> read.contains(t.getName())).forEach(graph::addInitializer);
        unit.inputs().forEach((name, in) -> graph.addInput(valueInfo(name, in.elementType(), in.shape(), true)));
        graph.addOutput(valueInfo(unit.output(), unit.outputType(), null, false));
        return model(model, graph);
    }

    /**
     * The {@link #lead} operations of {@code unit}'s feature-map inputs alone, each output a graph
     * output: what {@link #modelOf} with a lead costs besides the unit.
     */
    public static Onnx.ModelProto leadsOf(OpUnit unit, Onnx.ModelProto model) {
        Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("lead");
        Map<String, String> renamed = new HashMap<>();
        leads(unit, graph, renamed);
        unit.inputs().forEach((name, in) -> graph.addInput(valueInfo(name, in.elementType(), in.shape(), true)));
        renamed.forEach((in, out) -> graph.addOutput(valueInfo(out, unit.inputs().get(in).elementType(), null,
                false)));
        return model(model, graph);
    }

    /** Whether a unit has a feature-map input a lead operation can precede. */
    public static boolean hasLead(OpUnit unit) {
        return unit.inputs().values().stream().anyMatch(OpUnit.Input::isFeatureMap);
    }

    /**
     * A lead: a 1x1 depthwise convolution with unit weights on each [n, c, h, w] input (QLinearConv with
     * unit scales and zero points on a quantized one). ONNX Runtime runs a network's convolutions in a
     * blocked channel layout (int8 ones channels-last), converting the layout at the borders of a chain
     * of them, not between its members; a unit timed alone would pay both conversions. Timed after a
     * lead, less the lead alone, a unit costs what it costs inside a chain, and the conversions of a
     * whole network telescope to its own borders.
     */
    private static void leads(OpUnit unit, Onnx.GraphProto.Builder graph, Map<String, String> renamed) {
        for (Map.Entry<String, OpUnit.Input> in : unit.inputs().entrySet()) {
            if (!in.getValue().isFeatureMap()) {
                continue;
            }
            String x = in.getKey();
            long channels = in.getValue().shape()[1];
            String out = x + "/lead";
            Onnx.NodeProto.Builder conv = Onnx.NodeProto.newBuilder().setName(out).addOutput(out)
                    .addAttribute(Onnx.AttributeProto.newBuilder().setName("group")
                            .setType(Onnx.AttributeProto.AttributeType.INT).setI(channels));
            if (in.getValue().isFloat()) {
                graph.addInitializer(filled(x + "/lead.W", FLOAT, channels, 1));
                conv.setOpType("Conv").addInput(x).addInput(x + "/lead.W");
            } else {
                int type = in.getValue().elementType();
                graph.addInitializer(filled(x + "/lead.W", INT8, channels, 1))
                        .addInitializer(filled(x + "/lead.scale", FLOAT, 0, 1))
                        .addInitializer(filled(x + "/lead.zero", type, 0, 0))
                        .addInitializer(filled(x + "/lead.W.zero", INT8, 0, 0));
                conv.setOpType("QLinearConv").addInput(x).addInput(x + "/lead.scale").addInput(x + "/lead.zero")
                        .addInput(x + "/lead.W").addInput(x + "/lead.scale").addInput(x + "/lead.W.zero")
                        .addInput(x + "/lead.scale").addInput(x + "/lead.zero");
            }
            graph.addNode(conv);
            renamed.put(x, out);
        }
    }

    /**
     * A tensor of {@code value}: depthwise 1x1 weights of {@code channels} filters, or a scalar when
     * {@code channels} is 0.
     */
    private static Onnx.TensorProto filled(String name, int elementType, long channels, int value) {
        Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(elementType);
        long n = 1;
        if (channels > 0) {
            t.addDims(channels).addDims(1).addDims(1).addDims(1);
            n = channels;
        }
        if (elementType == FLOAT) {
            for (long i = 0; i < n; i++) {
                t.addFloatData(value);
            }
        } else {
            byte[] bytes = new byte[Math.toIntExact(n)];
            Arrays.fill(bytes, (byte) value);
            t.setRawData(ByteString.copyFrom(bytes));
        }
        return t.build();
    }

    private static Onnx.ModelProto model(Onnx.ModelProto like, Onnx.GraphProto.Builder graph) {
        return Onnx.ModelProto.newBuilder().setIrVersion(like.getIrVersion()).setProducerName("sparkslim")
                .addAllOpsetImport(like.getOpsetImportList()).setGraph(graph).build();
    }

    /** A float tensor's type, its first dimension free when {@code batched}; no shape when {@code shape} is null. */
    public static Onnx.ValueInfoProto valueInfo(String name, long[] shape, boolean batched) {
        return valueInfo(name, FLOAT, shape, batched);
    }

    /** {@link #valueInfo(String, long[], boolean)} of a tensor of another element type. */
    public static Onnx.ValueInfoProto valueInfo(String name, int elementType, long[] shape, boolean batched) {
        Onnx.TypeProto.Tensor.Builder tensor = Onnx.TypeProto.Tensor.newBuilder().setElemType(elementType);
        if (shape != null) {
            Onnx.TensorShapeProto.Builder dims = Onnx.TensorShapeProto.newBuilder();
            for (int i = 0; i < shape.length; i++) {
                dims.addDim(i == 0 && batched ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                        : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(shape[i]));
            }
            tensor.setShape(dims);
        }
        return Onnx.ValueInfoProto.newBuilder().setName(name)
                .setType(Onnx.TypeProto.newBuilder().setTensorType(tensor)).build();
    }

    /**
     * {@code model} with every node output also a graph output (its element type, no shape), so that
     * one run gives every activation's shape.
     */
    public static Onnx.ModelProto withEveryTensorAsOutput(Onnx.ModelProto model) {
        Map<String, Integer> types = elementTypes(model);
        Onnx.GraphProto.Builder graph = model.getGraph().toBuilder();
        Set<String> outputs = graph.getOutputList().stream().map(Onnx.ValueInfoProto::getName)
                .collect(Collectors.toSet());
        for (Onnx.NodeProto n : model.getGraph().getNodeList()) {
            for (String o : n.getOutputList()) {
                if (outputs.add(o)) {
                    graph.addOutput(valueInfo(o, types.get(o), null, false));
                }
            }
        }
        return model.toBuilder().setGraph(graph).build();
    }
}
