package org.sparkslim.compression.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import onnx.Onnx;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.onnx.Int8OnnxExporter;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.compression.quant.ActivationRange;
import org.sparkslim.compression.quant.QuantizationConfig;
import org.sparkslim.compression.quant.WeightQuantizer;

class OnnxUnitsTest {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    static Onnx.ModelProto exported(String family) throws Exception {
        return Onnx.ModelProto.parseFrom(OnnxExporter.export(TestNetworks.zoo(family), TestNetworks.FASHION));
    }

    static OnnxTensor tensor(long[] shape, long seed) throws OrtException {
        int n = 1;
        for (long d : shape) {
            n *= (int) d;
        }
        float[] values = new float[n];
        Random random = new Random(seed);
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return OnnxTensor.createTensor(ENV, FloatBuffer.wrap(values), shape);
    }

    /** Every tensor of one run of {@code model} on a batch of two random images, by name, as floats. */
    static Map<String, float[]> everyTensor(Onnx.ModelProto model, Map<String, long[]> shapes) throws OrtException {
        Map<String, float[]> values = new HashMap<>();
        try (OrtSession s = ENV.createSession(OnnxUnits.withEveryTensorAsOutput(model).toByteArray(),
                new OrtSession.SessionOptions());
             OnnxTensor x = tensor(new long[] {2, 1, 28, 28}, 7);
             OrtSession.Result result = s.run(Map.of(OnnxExporter.INPUT, x))) {
            for (Map.Entry<String, OnnxValue> e : result) {
                OnnxTensor t = (OnnxTensor) e.getValue();
                long[] shape = t.getInfo().getShape().clone();
                shape[0] = 1;
                shapes.put(e.getKey(), shape);
                values.put(e.getKey(), floats(t));
            }
        }
        shapes.put(OnnxExporter.INPUT, new long[] {1, 1, 28, 28});
        return values;
    }

    /** A float, uint8 or int8 tensor's values as floats. */
    static float[] floats(OnnxTensor t) {
        if (t.getInfo().type == OnnxJavaType.FLOAT) {
            FloatBuffer b = t.getFloatBuffer();
            float[] v = new float[b.remaining()];
            b.get(v);
            return v;
        }
        ByteBuffer b = t.getByteBuffer();
        float[] v = new float[b.remaining()];
        for (int i = 0; i < v.length; i++) {
            byte value = b.get();
            v[i] = t.getInfo().type == OnnxJavaType.UINT8 ? Byte.toUnsignedInt(value) : value;
        }
        return v;
    }

    /** A tensor of {@code input}'s element type holding {@code values}, of {@code shape}. */
    static OnnxTensor tensor(float[] values, long[] shape, OpUnit.Input input) throws OrtException {
        if (input.isFloat()) {
            return OnnxTensor.createTensor(ENV, FloatBuffer.wrap(values), shape);
        }
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (int) values[i];
        }
        OnnxJavaType type = input.elementType() == Onnx.TensorProto.DataType.UINT8.getNumber()
                ? OnnxJavaType.UINT8 : OnnxJavaType.INT8;
        return OnnxTensor.createTensor(ENV, ByteBuffer.wrap(bytes), shape, type);
    }

    static float[] run(Onnx.ModelProto unitModel, OpUnit unit, Map<String, float[]> tensors) throws OrtException {
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try (OrtSession s = ENV.createSession(unitModel.toByteArray(), new OrtSession.SessionOptions())) {
            for (Map.Entry<String, OpUnit.Input> in : unit.inputs().entrySet()) {
                long[] shape = in.getValue().shape().clone();
                shape[0] = 2;
                float[] v = in.getKey().equals(OnnxExporter.INPUT) ? null : tensors.get(in.getKey());
                feed.put(in.getKey(), v == null ? tensor(shape, 7) : tensor(v, shape, in.getValue()));
            }
            try (OrtSession.Result result = s.run(feed)) {
                return floats((OnnxTensor) result.get(0));
            }
        } finally {
            for (OnnxTensor t : feed.values()) {
                t.close();
            }
        }
    }

    /**
     * A zoo network splits into its main operations, each with the batch norm and activation after it;
     * repeated blocks share keys; each unit's model, run alone on the network's own tensors (after a
     * lead or not), gives the network's own output tensor.
     */
    @ParameterizedTest
    @CsvSource({"vgg, 11, 11", "resnet20, 32, 16", "mobilenetv1, 13, 13", "mobilenetv2, 32, 25"})
    void zooNetworksSplitIntoUnitsThatRunAlone(String family, int units, int distinct) throws Exception {
        Onnx.ModelProto model = exported(family);
        Map<String, long[]> shapes = new HashMap<>();
        Map<String, float[]> tensors = everyTensor(model, shapes);
        List<OpUnit> split = OnnxUnits.of(model, shapes);
        assertEquals(units, split.size());
        assertEquals(distinct, split.stream().map(OpUnit::key).distinct().count());
        assertEquals(model.getGraph().getNodeCount(), split.stream().mapToInt(u -> u.nodes().size()).sum(),
                "every node in one unit");
        for (OpUnit unit : split) {
            if (unit.nodes().get(0).getOpType().equals("Conv")) {
                assertTrue(unit.nodes().size() >= 2 && unit.nodes().get(1).getOpType().equals("BatchNormalization"),
                        "a convolution carries its batch norm: " + unit.summary());
            }
        }
        assertUnitsRunAlone(model, split, tensors);
    }

    /**
     * A network's int8 export (QLinear operators on uint8 feature maps, and with layers left in float
     * between dequantization and quantization) splits the same way; each unit's model, alone and after
     * its lead (a QLinearConv on a uint8 input), gives the network's own tensor.
     */
    @ParameterizedTest
    @CsvSource({"resnet20, ''", "mobilenetv2, ''", "resnet20, stem;stage2.block1.conv1"})
    void int8ModelsSplitIntoUnitsThatRunAlone(String family, String floatLayers) throws Exception {
        QuantizationConfig config = floatLayers.isEmpty() ? QuantizationConfig.DEFAULT
                : new QuantizationConfig(WeightQuantizer.CHANNEL_WISE_ABS_MAX, 8, 8,
                        ActivationRange.MOVING_AVERAGE_ABS_MAX, 0.9, 10, List.of(floatLayers.split(";")));
        Nd4j.getRandom().setSeed(7);
        INDArray images = Nd4j.rand(DataType.FLOAT, 32, 1, 28, 28).subi(0.3).muli(2.5);
        Onnx.ModelProto model = Onnx.ModelProto.parseFrom(Int8OnnxExporter.export(
                TestNetworks.quantized(TestNetworks.zoo(family), config, images), TestNetworks.FASHION));
        Map<String, long[]> shapes = new HashMap<>();
        Map<String, float[]> tensors = everyTensor(model, shapes);
        List<OpUnit> split = OnnxUnits.of(model, shapes);
        assertEquals(model.getGraph().getNodeCount(), split.stream().mapToInt(u -> u.nodes().size()).sum(),
                "every node in one unit");
        assertTrue(split.stream().anyMatch(u -> u.key().startsWith("QLinearConv") && u.key().contains("Nuint8[")),
                "int8 convolutions read uint8 feature maps");
        assertEquals(!floatLayers.isEmpty(), split.stream().anyMatch(u -> u.key().startsWith("Conv")),
                "float convolutions where layers stay in float");
        assertUnitsRunAlone(model, split, tensors);
    }

    /** Each unit's model, run alone on the network's own tensors, after a lead or not, gives the network's tensor. */
    static void assertUnitsRunAlone(Onnx.ModelProto model, List<OpUnit> units, Map<String, float[]> tensors)
            throws OrtException {
        for (OpUnit unit : units) {
            float[] expected = tensors.get(unit.output());
            float[] alone = run(OnnxUnits.modelOf(unit, model, false), unit, tensors);
            float[] led = run(OnnxUnits.modelOf(unit, model, true), unit, tensors);
            assertClose(expected, alone, unit.summary());
            assertClose(expected, led, "a lead is an identity: " + unit.summary());
        }
    }

    /** Equal within 1e-5 of the largest magnitude (random batch norm statistics make large values). */
    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        float scale = 1;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5f * scale, what + " at " + i);
        }
    }

    @Test
    void anEstimateIsTheCallAndTheUnits() throws Exception {
        Onnx.ModelProto model = exported("vgg");
        Map<String, long[]> shapes = new HashMap<>();
        everyTensor(model, shapes);
        List<OpUnit> units = OnnxUnits.of(model, shapes);
        LatencyTable table = new LatencyTable("test", List.of(new LatencyTable.Entry(LatencyTable.CALL,
                LatencyTable.CALL, 4, 0.5)));
        for (int i = 0; i < units.size(); i++) {
            table = table.with(new LatencyTable.Entry(units.get(i).key(), units.get(i).summary(), 4, i + 1));
        }
        assertEquals(0.5 + units.size() * (units.size() + 1) / 2.0, table.estimateMillis(units, 4), 1e-9);
        LatencyTable finalTable = table;
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> finalTable.estimateMillis(units, 64));
        assertTrue(missing.getMessage().contains("no entry for (one call) at batch 64"), missing.getMessage());
        Map<String, long[]> noShapes = Map.of();
        IllegalArgumentException shapeless = assertThrows(IllegalArgumentException.class,
                () -> OnnxUnits.of(model, noShapes));
        assertTrue(shapeless.getMessage().contains("no shape for tensor 'input'"), shapeless.getMessage());
    }
}
