package org.sparkslim.compression.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;

/** Without oneDNN, training is about five times slower; this fails if a convolution runs without it. */
class OneDnnTest {
    @Test
    void convolutionsRunThroughTheOneDnnHelper() {
        assertTrue(OneDnn.available(), "the native backend reports no oneDNN: is the linux-x86_64-onednn classifier on the classpath?");
        ModelFamily family = ModelZoo.family("vgg");
        ComputationGraph net = family.build(family.spec(family.baseWidths(), new ImageShape(1, 28, 28), 10, 1));
        net.outputSingle(false, Nd4j.rand(DataType.FLOAT, 2, 1, 28, 28));
        assertTrue(OneDnn.convolutionsUseOneDnn(net), "a convolution layer runs without MKLDNNConvHelper; "
                + "is -D" + OneDnn.HELPERS_DISABLE_PROPERTY + "=false set?");
    }
}
