package org.sparkslim.compression.latency;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import onnx.Onnx;

/**
 * Splits an ONNX model into {@link OpUnit}s and builds a model of one unit alone, to time it. A unit
 * starts at every operation that is not element-wise; an element-wise operation joins the unit before
 * it when it reads that unit's output and nothing else reads it, which is what ONNX Runtime fuses
 * (a convolution with its batch norm and activation, a sum with its activation).
 */
public final class OnnxUnits {
    /** Operations that follow a main operation within its unit. */
    static final Set<String> ELEMENT_WISE = Set.of("BatchNormalization", "Relu", "Clip", "LeakyRelu", "Sigmoid",
            "Identity", "Flatten", "Softmax", "Reshape", "Dropout");

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
            units.add(unit(nodes, initializers, shapes));
        }
        return units;
    }

    private static Onnx.NodeProto last(List<Onnx.NodeProto> nodes) {
        return nodes.get(nodes.size() - 1);
    }

    private static OpUnit unit(List<Onnx.NodeProto> nodes, Map<String, Onnx.TensorProto> initializers,
                               Map<String, long[]> shapes) {
        Map<String, long[]> inputs = new LinkedHashMap<>();
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
                    inputs.put(in, shape);
                    reads.add("N" + dims(Arrays.copyOfRange(shape, 1, shape.length)));
                }
            }
            key.append(key.length() == 0 ? "" : " > ").append(n.getDomain().isEmpty() ? "" : n.getDomain() + ".")
                    .append(n.getOpType()).append(attributes(n)).append('(').append(String.join(", ", reads))
                    .append(')');
            produced.addAll(n.getOutputList());
        }
        return new OpUnit(key.toString(), summary(nodes, inputs), List.copyOf(nodes), inputs, last(nodes).getOutput(0));
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

    private static String summary(List<Onnx.NodeProto> nodes, Map<String, long[]> inputs) {
        StringBuilder s = new StringBuilder(nodes.get(0).getOpType());
        long[] in = inputs.isEmpty() ? null : inputs.values().iterator().next();
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
        unit.inputs().forEach((name, shape) -> graph.addInput(valueInfo(name, shape, true)));
        graph.addOutput(valueInfo(unit.output(), null, false));
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
        unit.inputs().forEach((name, shape) -> graph.addInput(valueInfo(name, shape, true)));
        renamed.values().forEach(out -> graph.addOutput(valueInfo(out, null, false)));
        return model(model, graph);
    }

    /** Whether a unit has a feature-map input a lead operation can precede. */
    public static boolean hasLead(OpUnit unit) {
        return unit.inputs().values().stream().anyMatch(shape -> shape.length == 4);
    }

    /**
     * A lead: a 1x1 depthwise convolution with unit weights on each [n, c, h, w] input. ONNX Runtime
     * runs a network's convolutions in a blocked channel layout, converting the layout at the borders
     * of a chain of them, not between its members; a unit timed alone would pay both conversions. Timed
     * after a lead, less the lead alone, a unit costs what it costs inside a chain, and the conversions
     * of a whole network telescope to its own borders.
     */
    private static void leads(OpUnit unit, Onnx.GraphProto.Builder graph, Map<String, String> renamed) {
        for (Map.Entry<String, long[]> in : unit.inputs().entrySet()) {
            long[] shape = in.getValue();
            if (shape.length != 4) {
                continue;
            }
            String weights = in.getKey() + "/lead.W";
            Onnx.TensorProto.Builder w = Onnx.TensorProto.newBuilder().setName(weights)
                    .setDataType(Onnx.TensorProto.DataType.FLOAT.getNumber()).addDims(shape[1]).addDims(1).addDims(1)
                    .addDims(1);
            for (long c = 0; c < shape[1]; c++) {
                w.addFloatData(1f);
            }
            graph.addInitializer(w);
            String out = in.getKey() + "/lead";
            graph.addNode(Onnx.NodeProto.newBuilder().setOpType("Conv").setName(out).addInput(in.getKey())
                    .addInput(weights).addOutput(out)
                    .addAttribute(Onnx.AttributeProto.newBuilder().setName("group")
                            .setType(Onnx.AttributeProto.AttributeType.INT).setI(shape[1])));
            renamed.put(in.getKey(), out);
        }
    }

    private static Onnx.ModelProto model(Onnx.ModelProto like, Onnx.GraphProto.Builder graph) {
        return Onnx.ModelProto.newBuilder().setIrVersion(like.getIrVersion()).setProducerName("sparkslim")
                .addAllOpsetImport(like.getOpsetImportList()).setGraph(graph).build();
    }

    /** A float tensor's type, its first dimension free when {@code batched}; no shape when {@code shape} is null. */
    public static Onnx.ValueInfoProto valueInfo(String name, long[] shape, boolean batched) {
        Onnx.TypeProto.Tensor.Builder tensor = Onnx.TypeProto.Tensor.newBuilder()
                .setElemType(Onnx.TensorProto.DataType.FLOAT.getNumber());
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
     * {@code model} with every node output also a graph output (typed float, no shape), so that one
     * run gives every activation's shape.
     */
    public static Onnx.ModelProto withEveryTensorAsOutput(Onnx.ModelProto model) {
        Onnx.GraphProto.Builder graph = model.getGraph().toBuilder();
        Set<String> outputs = graph.getOutputList().stream().map(Onnx.ValueInfoProto::getName)
                .collect(Collectors.toSet());
        for (Onnx.NodeProto n : model.getGraph().getNodeList()) {
            for (String o : n.getOutputList()) {
                if (outputs.add(o)) {
                    graph.addOutput(valueInfo(o, null, false));
                }
            }
        }
        return model.toBuilder().setGraph(graph).build();
    }
}
