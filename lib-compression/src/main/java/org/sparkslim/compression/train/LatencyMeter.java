package org.sparkslim.compression.train;

import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.runtime.NativeThreads;

/**
 * Inference latency of one network on this machine: the median wall time of a forward pass at a
 * batch size, after warm-up. The median, because the machine is shared and the mean chases outliers.
 */
public final class LatencyMeter {
    private final int warmup;
    private final int runs;
    private final int threads;

    /** @param threads native threads for the timed passes (the caller's setting is restored after) */
    public LatencyMeter(int warmup, int runs, int threads) {
        if (warmup < 0 || runs < 1 || threads < 1) {
            throw new IllegalArgumentException("latency needs warmup >= 0, runs >= 1 and threads >= 1");
        }
        this.warmup = warmup;
        this.runs = runs;
        this.threads = threads;
    }

    /** Median milliseconds for one forward pass of {@code batchSize} images. */
    public double medianMillis(ComputationGraph net, ImageShape shape, int batchSize) {
        return medianMillis(List.of(net), shape, batchSize)[0];
    }

    /**
     * Median milliseconds per forward pass of each network, measured interleaved (one pass of each
     * in turn, {@code runs} times), so that warm-up and the machine's load affect all of them alike
     * and their ratios are fair.
     */
    public double[] medianMillis(List<ComputationGraph> nets, ImageShape shape, int batchSize) {
        return medianMillis(nets, Nd4j.rand(DataType.FLOAT, batchSize, shape.channels(), shape.height(), shape.width()));
    }

    /** {@link #medianMillis(List, ImageShape, int)} of networks that read {@code inputs}. */
    public double[] medianMillis(List<ComputationGraph> nets, INDArray... inputs) {
        int before = NativeThreads.forCurrentThread();
        NativeThreads.setForCurrentThread(threads);
        try {
            for (int i = 0; i < warmup; i++) {
                nets.forEach(net -> net.output(false, inputs));
            }
            double[][] millis = new double[nets.size()][runs];
            for (int r = 0; r < runs; r++) {
                for (int n = 0; n < nets.size(); n++) {
                    long start = System.nanoTime();
                    nets.get(n).output(false, inputs);
                    millis[n][r] = (System.nanoTime() - start) / 1e6;
                }
            }
            double[] medians = new double[nets.size()];
            for (int n = 0; n < nets.size(); n++) {
                Arrays.sort(millis[n]);
                medians[n] = runs % 2 == 1 ? millis[n][runs / 2] : (millis[n][runs / 2 - 1] + millis[n][runs / 2]) / 2;
            }
            return medians;
        } finally {
            NativeThreads.setForCurrentThread(before);
        }
    }
}
