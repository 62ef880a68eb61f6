package org.sparkslim.compression.train;

import java.util.Arrays;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.ImageShape;

/**
 * Inference latency of one network on this machine: the median wall time of a forward pass at a
 * batch size, after warm-up. The median, because the machine is shared and the mean chases outliers.
 */
public final class LatencyMeter {
    private final int warmup;
    private final int runs;

    public LatencyMeter(int warmup, int runs) {
        if (warmup < 0 || runs < 1) {
            throw new IllegalArgumentException("latency needs warmup >= 0 and runs >= 1");
        }
        this.warmup = warmup;
        this.runs = runs;
    }

    /** Median milliseconds for one forward pass of {@code batchSize} images. */
    public double medianMillis(ComputationGraph net, ImageShape shape, int batchSize) {
        INDArray input = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT,
                batchSize, shape.channels(), shape.height(), shape.width());
        for (int i = 0; i < warmup; i++) {
            net.outputSingle(false, input);
        }
        double[] millis = new double[runs];
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            net.outputSingle(false, input);
            millis[i] = (System.nanoTime() - start) / 1e6;
        }
        Arrays.sort(millis);
        return runs % 2 == 1 ? millis[runs / 2] : (millis[runs / 2 - 1] + millis[runs / 2]) / 2;
    }
}
