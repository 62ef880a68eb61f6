package org.sparkslim.compression.runtime;

import java.nio.FloatBuffer;

/**
 * Batch normalization in training mode over a channels-first tensor {@code [n, c, s]} (s = height x
 * width), one channel at a time. A channel's values are copied once into a scratch array, so the
 * mean, the variance, the output (and, backwards, the two sums and the input gradient) are each one
 * pass over memory that is already in cache, where separate tensor operations would each read the
 * whole tensor again. Channels are spread over the cores.
 */
public final class BatchNormKernels {
    /** Channels per task: enough work to outweigh scheduling, enough tasks to balance the cores. */
    private static final int CHANNELS_PER_TASK = 4;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private BatchNormKernels() {
    }

    /**
     * Normalizes {@code x} with its own per-channel statistics: writes {@code y = gamma (x - mean) / sqrt(var + eps) + beta}
     * and, per channel, the batch mean and biased variance.
     */
    public static void forward(FloatBuffer x, FloatBuffer y, int n, int c, int s, float[] gamma, float[] beta, double eps,
                               float[] mean, float[] variance) {
        run(c, (from, to) -> {
            float[] v = scratch(0, n * s);
            for (int ch = from; ch < to; ch++) {
                gather(x, v, n, c, s, ch);
                int m = n * s;
                double sum = 0;
                for (int i = 0; i < m; i++) {
                    sum += v[i];
                }
                float mu = (float) (sum / m);
                double squares = 0;
                for (int i = 0; i < m; i++) {
                    float d = v[i] - mu;
                    squares += d * d;
                }
                float var = (float) (squares / m);
                float scale = (float) (gamma[ch] / Math.sqrt(var + eps));
                float shift = beta[ch] - mu * scale;
                for (int i = 0; i < m; i++) {
                    v[i] = v[i] * scale + shift;
                }
                scatter(v, y, n, c, s, ch);
                mean[ch] = mu;
                variance[ch] = var;
            }
        });
    }

    /**
     * The gradients of {@link #forward} given the output gradient {@code dy}: writes {@code dx}, and per
     * channel the scale and shift gradients {@code dGamma = sum(dy * xhat)}, {@code dBeta = sum(dy)}.
     */
    public static void backward(FloatBuffer x, FloatBuffer dy, FloatBuffer dx, int n, int c, int s, float[] gamma,
                                float[] mean, float[] variance, double eps, float[] dGamma, float[] dBeta) {
        run(c, (from, to) -> {
            float[] xs = scratch(0, n * s);
            float[] gs = scratch(1, n * s);
            int m = n * s;
            for (int ch = from; ch < to; ch++) {
                gather(x, xs, n, c, s, ch);
                gather(dy, gs, n, c, s, ch);
                float mu = mean[ch];
                float invStd = (float) (1 / Math.sqrt(variance[ch] + eps));
                double sumDy = 0;
                double sumDyXhat = 0;
                for (int i = 0; i < m; i++) {
                    float xhat = (xs[i] - mu) * invStd;
                    sumDy += gs[i];
                    sumDyXhat += gs[i] * xhat;
                }
                float scale = gamma[ch] * invStd;
                float meanDy = (float) (sumDy / m);
                float meanDyXhat = (float) (sumDyXhat / m);
                for (int i = 0; i < m; i++) {
                    float xhat = (xs[i] - mu) * invStd;
                    gs[i] = scale * (gs[i] - meanDy - xhat * meanDyXhat);
                }
                scatter(gs, dx, n, c, s, ch);
                dGamma[ch] = (float) sumDyXhat;
                dBeta[ch] = (float) sumDy;
            }
        });
    }

    /** Channel {@code ch} of every example, side by side. */
    private static void gather(FloatBuffer from, float[] to, int n, int c, int s, int ch) {
        for (int e = 0; e < n; e++) {
            from.get((e * c + ch) * s, to, e * s, s);
        }
    }

    private static void scatter(float[] from, FloatBuffer to, int n, int c, int s, int ch) {
        for (int e = 0; e < n; e++) {
            to.put((e * c + ch) * s, from, e * s, s);
        }
    }

    private static float[] scratch(int which, int size) {
        float[][] arrays = SCRATCH.get();
        if (arrays[which].length < size) {
            arrays[which] = new float[size];
        }
        return arrays[which];
    }

    private static void run(int channels, CoreSplit.Range work) {
        CoreSplit.run(channels, CHANNELS_PER_TASK, work);
    }
}
