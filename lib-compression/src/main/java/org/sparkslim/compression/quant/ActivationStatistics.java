package org.sparkslim.compression.quant;

import java.io.Serializable;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.util.Mergeable;

/**
 * What calibration learns about each quantized tensor over a set of batches: a histogram of absolute
 * values (for the clipping calibrators) and the mean of the per-batch abs max (what a {@code dynamic}
 * quantizer saw on a typical batch). Mergeable, so Spark tasks can each observe a partition.
 */
public final class ActivationStatistics implements Mergeable<ActivationStatistics>, Serializable {
    private final int bins;
    private final Map<String, Histogram> histograms = new LinkedHashMap<>();
    private final Map<String, double[]> batchMaxima = new LinkedHashMap<>(); // tensor -> {sum, batches}

    public ActivationStatistics(Collection<String> tensors, int bins) {
        this.bins = bins;
        for (String t : tensors) {
            histograms.put(t, new Histogram(bins));
            batchMaxima.put(t, new double[2]);
        }
    }

    /** Runs {@code net} in inference mode on one batch and records every tracked tensor. */
    public void observe(ComputationGraph net, INDArray features) {
        Map<String, INDArray> activations = net.feedForward(features, false);
        for (Map.Entry<String, Histogram> e : histograms.entrySet()) {
            INDArray a = activations.get(e.getKey());
            if (a == null) {
                throw new IllegalArgumentException("the network has no tensor '" + e.getKey() + "' to calibrate");
            }
            e.getValue().add(a.castTo(DataType.FLOAT).data().asFloat());
            double[] m = batchMaxima.get(e.getKey());
            m[0] += a.amaxNumber().doubleValue();
            m[1]++;
        }
    }

    @Override
    public ActivationStatistics merge(ActivationStatistics other) {
        other.histograms.forEach((t, h) -> histograms.merge(t, h, Histogram::merge));
        other.batchMaxima.forEach((t, m) -> batchMaxima.merge(t, m, (a, b) -> new double[] {a[0] + b[0], a[1] + b[1]}));
        return this;
    }

    public Histogram histogram(String tensor) {
        return tracked(histograms.get(tensor), tensor);
    }

    public double meanBatchMax(String tensor) {
        double[] m = tracked(batchMaxima.get(tensor), tensor);
        return m[1] == 0 ? 0 : m[0] / m[1];
    }

    private static <T> T tracked(T value, String tensor) {
        if (value == null) {
            throw new IllegalArgumentException("no calibration statistics for tensor '" + tensor + "'");
        }
        return value;
    }

    public int bins() {
        return bins;
    }
}
