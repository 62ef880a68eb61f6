package org.sparkslim.compression.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;

class ModelFilesTest {
    /** Zip entry times have a 2-second resolution: writes 2.5 s apart would differ if they were stamped. */
    @Test
    void aNetworkWrittenTwiceGivesTheSameBytes() throws Exception {
        ComputationGraph net = TestNetworks.zoo("vgg");
        byte[] first = ModelFiles.toBytes(net);
        Thread.sleep(2500);
        byte[] second = ModelFiles.toBytes(net);
        assertArrayEquals(first, second);
        ComputationGraph read = ModelFiles.fromBytes(second, "test");
        assertEquals(net.params(), read.params());
        assertEquals(net.getConfiguration().toJson(), read.getConfiguration().toJson());
    }
}
