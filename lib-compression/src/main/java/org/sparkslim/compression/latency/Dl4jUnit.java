package org.sparkslim.compression.latency;

import java.util.List;

/**
 * One unit of a network's latency in DL4J: a vertex (a layer, a sum, a concatenation), which DL4J
 * runs as an operation of its own (no fusion across vertices).
 *
 * @param key     the layer's type and settings, its parameter count and the shapes it reads
 * @param summary a short description for people ({@code SubsamplingLayer MAX k=[2, 2] s=[2, 2] @[32x28x28]})
 * @param vertex  the vertex's name in its network
 * @param inputs  the shape of each input at batch 1, in the vertex's input order
 * @param output  the shape of its output at batch 1
 */
public record Dl4jUnit(String key, String summary, String vertex, List<long[]> inputs, long[] output)
        implements TimedUnit {
}
