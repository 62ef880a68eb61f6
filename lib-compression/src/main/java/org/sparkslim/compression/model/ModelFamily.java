package org.sparkslim.compression.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.ImageShape;

/** A family of networks of one layout; its members differ only in their widths. */
public interface ModelFamily {
    String name();

    /** One line: what the layout is. */
    String description();

    /** The widths of the reference member (the one the benchmark table describes). */
    WidthVector baseWidths();

    /** Builds an initialized network; weights are drawn from {@code spec.seed()}. */
    ComputationGraph build(ModelSpec spec);

    default ModelSpec spec(WidthVector widths, ImageShape input, int numClasses, long seed) {
        return new ModelSpec(name(), widths, input, numClasses, seed);
    }
}
