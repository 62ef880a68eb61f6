package org.sparkslim.compression.train;

import java.io.Serializable;

/** One finished epoch: mean training loss, the learning rate at its end, throughput and validation scores. */
public record EpochSummary(int epoch, double trainLoss, double learningRate, double imagesPerSecond,
                           double seconds, double validationTop1, double validationLoss) implements Serializable {
}
