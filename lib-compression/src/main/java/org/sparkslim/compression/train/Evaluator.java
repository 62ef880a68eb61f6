package org.sparkslim.compression.train;

import java.util.Iterator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/** Scores a classifier (a network's first output) on a stream of batches, in inference mode. */
public final class Evaluator {
    private Evaluator() {
    }

    public static ClassificationMetrics evaluate(ComputationGraph net, BatchSource source, int numClasses) {
        ClassificationMetrics metrics = new ClassificationMetrics(numClasses);
        Iterator<DataSet> batches = source.epoch(0);
        while (batches.hasNext()) {
            DataSet batch = batches.next();
            INDArray probabilities = net.output(false, batch.getFeatures())[0];
            metrics.addBatch(probabilities, labelIndices(batch.getLabels()));
        }
        return metrics;
    }

    /** Class index of each row of a one-hot label matrix. */
    public static int[] labelIndices(INDArray oneHot) {
        return oneHot.argMax(1).toIntVector();
    }
}
