package org.sparkslim.compression.latency;

import java.util.List;
import java.util.Map;
import onnx.Onnx;

/**
 * One unit of a network's latency: a main operation (a convolution, a matrix product, a pooling, an
 * addition) with the element-wise operations that follow it alone (batch norm, activation), as ONNX
 * Runtime fuses and runs them together. Its key names the operations, their attributes and the
 * shapes they read, not the weights' values, so equal units of different networks share a row of the
 * {@link LatencyTable}.
 *
 * @param key     the canonical description, the batch dimension written {@code N}
 * @param summary a short description for people ({@code Conv 3x3/1 g1 16->32 @28x28 +BatchNormalization+Relu})
 * @param nodes   the unit's ONNX nodes, in order
 * @param inputs  the unit's activation inputs (not weights), each with its shape at batch 1
 * @param output  the name of the unit's output tensor
 */
public record OpUnit(String key, String summary, List<Onnx.NodeProto> nodes, Map<String, long[]> inputs,
                     String output) {
}
