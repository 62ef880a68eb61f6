package org.sparkslim.compression.train;

import java.io.Serializable;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Accumulates top-1 accuracy, mean cross-entropy loss, per-class accuracy and the confusion matrix
 * (rows: true class, columns: predicted class). Mergeable, so partial results can be combined.
 */
public final class ClassificationMetrics implements Serializable {
    private static final double MIN_PROBABILITY = 1e-12;

    private final long[][] confusion;
    private double lossSum;
    private long count;

    public ClassificationMetrics(int numClasses) {
        this.confusion = new long[numClasses][numClasses];
    }

    public int numClasses() {
        return confusion.length;
    }

    /** Adds one example: its true label and the predicted class probabilities. */
    public void add(int label, float[] probabilities) {
        int predicted = argMax(probabilities);
        confusion[label][predicted]++;
        lossSum += loss(label, probabilities);
        count++;
    }

    /** Adds a batch: {@code probabilities} is {@code [n, classes]}, {@code labels} one-hot or class indices. */
    public void addBatch(INDArray probabilities, int[] labels) {
        float[][] p = probabilities.toFloatMatrix();
        for (int i = 0; i < labels.length; i++) {
            add(labels[i], p[i]);
        }
    }

    public ClassificationMetrics merge(ClassificationMetrics other) {
        for (int i = 0; i < confusion.length; i++) {
            for (int j = 0; j < confusion.length; j++) {
                confusion[i][j] += other.confusion[i][j];
            }
        }
        lossSum += other.lossSum;
        count += other.count;
        return this;
    }

    public long count() {
        return count;
    }

    public double top1() {
        long correct = 0;
        for (int i = 0; i < confusion.length; i++) {
            correct += confusion[i][i];
        }
        return count == 0 ? Double.NaN : correct / (double) count;
    }

    public double loss() {
        return count == 0 ? Double.NaN : lossSum / count;
    }

    public double[] perClassAccuracy() {
        double[] accuracy = new double[confusion.length];
        for (int i = 0; i < confusion.length; i++) {
            long total = 0;
            for (long c : confusion[i]) {
                total += c;
            }
            accuracy[i] = total == 0 ? Double.NaN : confusion[i][i] / (double) total;
        }
        return accuracy;
    }

    public long[][] confusion() {
        long[][] copy = new long[confusion.length][];
        for (int i = 0; i < confusion.length; i++) {
            copy[i] = confusion[i].clone();
        }
        return copy;
    }

    /** Cross-entropy of one example: {@code -log p[label]}, with p floored so a confident miss stays finite. */
    public static double loss(int label, float[] probabilities) {
        return -Math.log(Math.max(MIN_PROBABILITY, probabilities[label]));
    }

    public static int argMax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
