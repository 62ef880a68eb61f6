package org.sparkslim.compression.model;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;

/**
 * A small VGG: three pairs of 3x3 conv + BN + ReLU (32, 64, 128 channels), each pair followed by a
 * 2x2 max pool, then global average pooling and a dense classifier. One width slot per convolution.
 */
public final class Vgg implements ModelFamily {
    private static final int[] WIDTHS = {32, 32, 64, 64, 128, 128};

    @Override
    public String name() {
        return "vgg";
    }

    @Override
    public String description() {
        return "VGG: conv 32,32 / pool / 64,64 / pool / 128,128 / pool, GAP, dense";
    }

    @Override
    public WidthVector baseWidths() {
        Map<String, Integer> widths = new LinkedHashMap<>();
        for (int i = 0; i < WIDTHS.length; i++) {
            widths.put("conv" + (i + 1), WIDTHS[i]);
        }
        return WidthVector.of(widths);
    }

    @Override
    public ComputationGraph build(ModelSpec spec) {
        GraphSketch g = new GraphSketch(spec);
        String x = GraphSketch.INPUT;
        int channels = g.inputChannels();
        for (int i = 1; i <= WIDTHS.length; i++) {
            int out = g.width("conv" + i);
            x = g.conv("conv" + i, x, channels, out, 3, 1, Activation.RELU);
            channels = out;
            if (i % 2 == 0) {
                x = g.maxPool("pool" + (i / 2), x);
            }
        }
        return g.classifier(x, channels);
    }
}
