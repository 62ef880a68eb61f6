package org.sparkslim.compression.model;

import java.io.Serializable;
import org.sparkslim.compression.data.ImageShape;

/** Everything needed to build one member of a model family. */
public record ModelSpec(String family, WidthVector widths, ImageShape input, int numClasses, long seed)
        implements Serializable {
}
