package org.sparkslim.compression.runtime;

import java.lang.reflect.Field;
import java.nio.FloatBuffer;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The training pass of DL4J's batch normalization layers through {@link BatchNormKernels}: DL4J's own
 * (and its oneDNN helper's) training pass reads a layer's input four or five times to compute the
 * batch statistics and normalize, and its backward pass as often again; this is the layers' largest
 * cost when training a MobileNet. Installed as the layer's helper, so the layer keeps its
 * parameters, its running statistics (updated by DL4J from the batch mean and variance given here)
 * and its file format. Inference, and any layout but float channels-first, go to the helper DL4J
 * chose (or its built-in code).
 */
public final class FusedBatchNorm implements BatchNormalizationHelper {
    private static final Field HELPER = helperField();

    private final BatchNormalizationHelper inference;
    private float[] mean = new float[0];
    private float[] variance = new float[0];
    /** The last training pass went to the other helper, which then holds the batch statistics. */
    private boolean delegated;

    private FusedBatchNorm(BatchNormalizationHelper inference) {
        this.inference = inference;
    }

    /** Makes every batch normalization layer of {@code net} train through the fused kernels; returns how many. */
    public static int installOn(ComputationGraph net) {
        int installed = 0;
        for (Layer layer : net.getLayers()) {
            if (layer instanceof BatchNormalization bn) {
                try {
                    Object current = HELPER.get(bn);
                    if (!(current instanceof FusedBatchNorm)) {
                        HELPER.set(bn, new FusedBatchNorm((BatchNormalizationHelper) current));
                    }
                    installed++;
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("cannot set the helper of " + layer.conf().getLayer().getLayerName(), e);
                }
            }
        }
        return installed;
    }

    /** Whether the layer of this name trains through the fused kernels. */
    public static boolean isInstalled(ComputationGraph net, String layer) {
        try {
            return HELPER.get(net.getLayer(layer)) instanceof FusedBatchNorm;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Field helperField() {
        try {
            Field f = BatchNormalization.class.getDeclaredField("helper");
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError("DL4J's BatchNormalization has no helper field: " + e);
        }
    }

    /**
     * DL4J hands its helper rank-4 inputs (a dense layer's as {@code [n, c, 1, 1]}); the kernels take
     * float channels-first ones.
     */
    private static boolean fused(INDArray x, CNN2DFormat format) {
        return x.dataType() == DataType.FLOAT && x.rank() == 4 && format == CNN2DFormat.NCHW;
    }

    /** {@code [n, c, s]} of a channels-first input. */
    private static int[] dims(INDArray x) {
        return new int[] {(int) x.size(0), (int) x.size(1), (int) (x.size(2) * x.size(3))};
    }

    /** The array itself when its buffer holds exactly its elements in C order, else a C-order copy. */
    private static INDArray dense(INDArray a) {
        boolean dense = a.ordering() == 'c' && a.offset() == 0 && Shape.hasDefaultStridesForShape(a)
                && a.data().length() == a.length();
        return dense ? a : a.dup('c');
    }

    private static FloatBuffer floats(INDArray a) {
        return a.data().asNioFloat();
    }

    @Override
    public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma, INDArray beta,
                              INDArray globalMean, INDArray globalVar, double decay, double eps, CNN2DFormat format,
                              LayerWorkspaceMgr workspaceMgr) {
        if (!training || !fused(x, format)) {
            delegated = training;
            return inference == null ? null
                    : inference.preOutput(x, training, shape, gamma, beta, globalMean, globalVar, decay, eps, format,
                    workspaceMgr);
        }
        delegated = false;
        INDArray in = dense(x);
        int[] d = dims(in);
        if (mean.length != d[1]) {
            mean = new float[d[1]];
            variance = new float[d[1]];
        }
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, in.shape(), 'c');
        BatchNormKernels.forward(floats(in), floats(out), d[0], d[1], d[2], gamma.toFloatVector(), beta.toFloatVector(),
                eps, mean, variance);
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape, INDArray gamma,
                                                     INDArray beta, INDArray dGammaView, INDArray dBetaView, double eps,
                                                     CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (!fused(input, format)) {
            return inference == null ? null : inference.backpropGradient(input, epsilon, shape, gamma, beta, dGammaView,
                    dBetaView, eps, format, workspaceMgr);
        }
        INDArray in = dense(input);
        int[] d = dims(in);
        float[] dGamma = new float[d[1]];
        float[] dBeta = new float[d[1]];
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, in.shape(), 'c');
        BatchNormKernels.backward(floats(in), floats(dense(epsilon)), floats(dx), d[0], d[1], d[2], gamma.toFloatVector(),
                mean, variance, eps, dGamma, dBeta);
        dGammaView.assign(Nd4j.createFromArray(dGamma).reshape(dGammaView.shape()));
        dBetaView.assign(Nd4j.createFromArray(dBeta).reshape(dBetaView.shape()));
        Gradient gradient = new DefaultGradient();
        gradient.setGradientFor("gamma", dGammaView);
        gradient.setGradientFor("beta", dBetaView);
        return new Pair<>(gradient, dx);
    }

    /** The mean of the last training batch, from which DL4J updates the running mean. */
    @Override
    public INDArray getMeanCache(DataType dataType) {
        return delegated ? inference.getMeanCache(dataType) : Nd4j.createFromArray(mean).castTo(dataType);
    }

    /** The biased variance of the last training batch, from which DL4J updates the running variance. */
    @Override
    public INDArray getVarCache(DataType dataType) {
        return delegated ? inference.getVarCache(dataType) : Nd4j.createFromArray(variance).castTo(dataType);
    }

    @Override
    public boolean checkSupported(double eps, boolean fixedGammaBeta) {
        return !fixedGammaBeta;
    }

    @Override
    public boolean checkSupported() {
        return true;
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Map.of("batchStatistics", 8L * mean.length);
    }
}
