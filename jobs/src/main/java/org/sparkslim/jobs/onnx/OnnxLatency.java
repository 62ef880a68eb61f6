package org.sparkslim.jobs.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import onnx.Onnx;
import org.sparkslim.compression.latency.OnnxUnits;
import org.sparkslim.compression.latency.OpUnit;

/**
 * Times ONNX models in ONNX Runtime the way {@link OnnxRuntimeModel} runs them (all graph
 * optimizations, a fixed number of intra-op threads): whole models, one unit of a model alone, and an
 * empty model (the cost of one call). Each time is the median over the timed runs after warm-up.
 */
public final class OnnxLatency {
    /** The engine's name in latency tables. */
    public static final String ENGINE = "onnxruntime";

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final int warmup;
    private final int runs;
    private final int threads;

    public OnnxLatency(int warmup, int runs, int threads) {
        this.warmup = warmup;
        this.runs = runs;
        this.threads = threads;
    }

    private OrtSession session(byte[] model) throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            return env.createSession(model, options);
        }
    }

    /** The shape at batch 1 of the graph input and of every node output of a float model, from one run. */
    public Map<String, long[]> shapes(Onnx.ModelProto model, String input, long[] inputShape) throws OrtException {
        Map<String, long[]> shapes = new HashMap<>();
        shapes.put(input, inputShape);
        try (OrtSession s = session(OnnxUnits.withEveryTensorAsOutput(model).toByteArray());
             OnnxTensor x = tensor(OpUnit.Input.floats(inputShape), 1, new SplittableRandom(1));
             OrtSession.Result result = s.run(Map.of(input, x))) {
            for (Map.Entry<String, OnnxValue> e : result) {
                if (e.getValue() instanceof OnnxTensor t) {
                    shapes.put(e.getKey(), t.getInfo().getShape());
                }
            }
        }
        return shapes;
    }

    /** Median milliseconds of one run of {@code model} at {@code batch}, its inputs random. */
    public double millis(byte[] model, Map<String, OpUnit.Input> inputs, int batch) throws OrtException {
        SplittableRandom random = new SplittableRandom(batch);
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try (OrtSession s = session(model)) {
            for (Map.Entry<String, OpUnit.Input> in : inputs.entrySet()) {
                feed.put(in.getKey(), tensor(in.getValue(), batch, random));
            }
            double[] millis = new double[runs];
            for (int i = -warmup; i < runs; i++) {
                long start = System.nanoTime();
                s.run(feed).close();
                if (i >= 0) {
                    millis[i] = (System.nanoTime() - start) / 1e6;
                }
            }
            Arrays.sort(millis);
            return runs % 2 == 1 ? millis[runs / 2] : (millis[runs / 2 - 1] + millis[runs / 2]) / 2;
        } finally {
            for (OnnxTensor t : feed.values()) {
                t.close();
            }
        }
    }

    /**
     * What one unit of {@code model} adds to a network's latency: timed after a lead operation, less the
     * lead alone ({@link OnnxUnits#leadsOf}); a unit without a feature-map input, alone less the cost of
     * a call. A unit cheaper than the timing noise can come out below zero; it costs nothing instead, so
     * that no estimate falls below the cost of a call.
     */
    public double unitMillis(OpUnit unit, Onnx.ModelProto model, int batch) throws OrtException {
        double millis = OnnxUnits.hasLead(unit)
                ? millis(OnnxUnits.modelOf(unit, model, true).toByteArray(), unit.inputs(), batch)
                        - millis(OnnxUnits.leadsOf(unit, model).toByteArray(), unit.inputs(), batch)
                : millis(OnnxUnits.modelOf(unit, model, false).toByteArray(), unit.inputs(), batch) - callMillis(batch);
        return Math.max(0, millis);
    }

    /** A model of one Identity on a one-element-per-example tensor: what any call costs. */
    public double callMillis(int batch) throws OrtException {
        Onnx.GraphProto graph = Onnx.GraphProto.newBuilder().setName("call")
                .addNode(Onnx.NodeProto.newBuilder().setOpType("Identity").addInput("x").addOutput("y").setName("id"))
                .addInput(OnnxUnits.valueInfo("x", new long[] {1, 1}, true))
                .addOutput(OnnxUnits.valueInfo("y", null, false)).build();
        Onnx.ModelProto model = Onnx.ModelProto.newBuilder().setIrVersion(7).setGraph(graph)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).build();
        return millis(model.toByteArray(), Map.of("x", OpUnit.Input.floats(new long[] {1, 1})), batch);
    }

    /** A random tensor of {@code input}'s element type and shape, at {@code batch}. */
    private OnnxTensor tensor(OpUnit.Input input, int batch, SplittableRandom random) throws OrtException {
        long[] shape = input.shape().clone();
        shape[0] = batch;
        int n = Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b));
        if (input.isFloat()) {
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = (float) random.nextDouble();
            }
            return OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape);
        }
        OnnxJavaType type = switch (Onnx.TensorProto.DataType.forNumber(input.elementType())) {
            case UINT8 -> OnnxJavaType.UINT8;
            case INT8 -> OnnxJavaType.INT8;
            default -> throw new IllegalArgumentException("no random tensors of element type "
                    + Onnx.TensorProto.DataType.forNumber(input.elementType()) + " to time a unit with");
        };
        byte[] values = new byte[n];
        for (int i = 0; i < n; i++) {
            values[i] = (byte) random.nextInt(256);
        }
        return OnnxTensor.createTensor(env, ByteBuffer.wrap(values), shape, type);
    }
}
