package org.sparkslim.jobs.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.onnx.OnnxExporter;

/**
 * An exported model loaded in ONNX Runtime (Java) with all graph optimizations and a fixed number of
 * intra-op threads: the proof that an export runs in a standard runtime, and its latency there.
 */
public final class OnnxRuntimeModel implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;

    public OnnxRuntimeModel(byte[] model, int threads) throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            this.session = env.createSession(model, options);
        }
    }

    /** The output ({@code [batch, classes]} probabilities) for a batch of images. */
    public float[][] predict(INDArray features) throws OrtException {
        try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(features.dup('c').data().asFloat()),
                features.shape());
             OrtSession.Result result = session.run(Map.of(OnnxExporter.INPUT, input))) {
            return (float[][]) result.get(0).getValue();
        }
    }

    /**
     * Median wall time of one forward pass of each model on {@code features}. The models take turns
     * run by run, so a slow moment of a shared machine hits all of them alike and their ratios hold.
     */
    public static double[] interleavedMedianMillis(List<OnnxRuntimeModel> models, INDArray features, int warmup, int runs)
            throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(features.dup('c').data().asFloat()),
                features.shape())) {
            Map<String, OnnxTensor> feed = Map.of(OnnxExporter.INPUT, input);
            double[][] millis = new double[models.size()][runs];
            for (int i = -warmup; i < runs; i++) {
                for (int m = 0; m < models.size(); m++) {
                    long start = System.nanoTime();
                    models.get(m).session.run(feed).close();
                    if (i >= 0) {
                        millis[m][i] = (System.nanoTime() - start) / 1e6;
                    }
                }
            }
            double[] medians = new double[models.size()];
            for (int m = 0; m < models.size(); m++) {
                Arrays.sort(millis[m]);
                medians[m] = millis[m][runs / 2];
            }
            return medians;
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
