package org.sparkslim.compression.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import onnx.Onnx;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.protobuf.ByteString;

/**
 * An ONNX graph under construction, on the ONNX protobuf classes ND4J ships: nodes, initializers of
 * the element types the exporters need (float, int8, uint8, int32) and the model wrapper.
 */
final class OnnxGraph {
    static final int OPSET = 13;
    /** Domain of ONNX Runtime's contrib operators (QLinearAdd, QLinearGlobalAveragePool, QGemm). */
    static final String MICROSOFT = "com.microsoft";

    private final Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder().setName("sparkslim");
    private final Map<String, String> scalars = new HashMap<>();
    private boolean usesMicrosoftOps;

    void input(String name, long... dims) {
        graph.addInput(valueInfo(name, dims));
    }

    void output(String name, long... dims) {
        graph.addOutput(valueInfo(name, dims));
    }

    void node(String op, List<String> inputs, List<String> outputs, String name, Onnx.AttributeProto... attrs) {
        node("", op, inputs, outputs, name, attrs);
    }

    void node(String domain, String op, List<String> inputs, List<String> outputs, String name, Onnx.AttributeProto... attrs) {
        Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op).setName(name)
                .addAllInput(inputs).addAllOutput(outputs);
        if (!domain.isEmpty()) {
            n.setDomain(domain);
            usesMicrosoftOps = true;
        }
        for (Onnx.AttributeProto a : attrs) {
            n.addAttribute(a);
        }
        graph.addNode(n);
    }

    /** A float32 initializer with {@code value}'s shape. */
    String floats(String name, INDArray value) {
        INDArray f = value.castTo(DataType.FLOAT).dup('c');
        ByteBuffer bytes = ByteBuffer.allocate((int) f.length() * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : f.data().asFloat()) {
            bytes.putFloat(x);
        }
        return raw(name, Onnx.TensorProto.DataType.FLOAT, bytes.array(), f.shape());
    }

    /** An int8 initializer from integer-valued {@code value}, in its shape. */
    String int8s(String name, INDArray value) {
        double[] v = value.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        byte[] bytes = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            bytes[i] = (byte) Math.round(v[i]);
        }
        return raw(name, Onnx.TensorProto.DataType.INT8, bytes, value.shape());
    }

    /** An int32 vector. */
    String int32s(String name, long[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : values) {
            bytes.putInt(Math.toIntExact(x));
        }
        return raw(name, Onnx.TensorProto.DataType.INT32, bytes.array(), new long[] {values.length});
    }

    /** A float scalar, shared by name. */
    String floatScalar(String name, float value) {
        return scalars.computeIfAbsent(name, n -> {
            graph.addInitializer(Onnx.TensorProto.newBuilder().setName(n)
                    .setDataType(Onnx.TensorProto.DataType.FLOAT.getNumber()).addFloatData(value));
            return n;
        });
    }

    /** A uint8 scalar (a zero point), shared by name. */
    String uint8Scalar(String name, int value) {
        return scalars.computeIfAbsent(name,
                n -> raw(n, Onnx.TensorProto.DataType.UINT8, new byte[] {(byte) value}, new long[0]));
    }

    /** An int8 scalar, shared by name. */
    String int8Scalar(String name, int value) {
        return scalars.computeIfAbsent(name, n -> raw(n, Onnx.TensorProto.DataType.INT8, new byte[] {(byte) value}, new long[0]));
    }

    private String raw(String name, Onnx.TensorProto.DataType type, byte[] bytes, long[] dims) {
        Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name)
                .setDataType(type.getNumber()).setRawData(ByteString.copyFrom(bytes));
        for (long d : dims) {
            t.addDims(d);
        }
        graph.addInitializer(t);
        return name;
    }

    Onnx.ModelProto model() {
        Onnx.ModelProto.Builder model = Onnx.ModelProto.newBuilder()
                .setIrVersion(7)
                .setProducerName("sparkslim")
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET));
        if (usesMicrosoftOps) {
            model.addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain(MICROSOFT).setVersion(1));
        }
        return model.setGraph(graph).build();
    }

    static Onnx.AttributeProto ints(String name, int[] values) {
        Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INTS);
        for (int v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    static Onnx.AttributeProto intAttr(String name, long value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.INT).setI(value).build();
    }

    static Onnx.AttributeProto floatAttr(String name, float value) {
        return Onnx.AttributeProto.newBuilder().setName(name).setType(Onnx.AttributeProto.AttributeType.FLOAT)
                .setF(value).build();
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
