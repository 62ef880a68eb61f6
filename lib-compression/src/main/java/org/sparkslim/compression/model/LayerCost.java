package org.sparkslim.compression.model;

import java.io.Serializable;

/**
 * The cost of one vertex: multiply-adds of one forward pass for one image, and parameters as the
 * benchmark counts them (conv and dense weights and biases, BatchNorm scale and shift).
 */
public record LayerCost(String name, String type, long macs, long params) implements Serializable {
}
