package org.sparkslim.compression.model;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;

/**
 * A small MobileNetV1: a 3x3 stem of 32 channels, then five depthwise-separable blocks (depthwise
 * 3x3 + BN + ReLU, pointwise 1x1 + BN + ReLU), GAP and a dense classifier. Width slots: the stem
 * and each block's pointwise convolution; a depthwise convolution keeps its input's channels.
 */
public final class MobileNetV1 implements ModelFamily {
    private static final int STEM = 32;
    private static final int[][] BLOCKS = {{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}};

    @Override
    public String name() {
        return "mobilenetv1";
    }

    @Override
    public String description() {
        return "MobileNetV1: 3x3 stem 32, 5 depthwise-separable blocks (64,128/2,128,256/2,256), GAP, dense";
    }

    @Override
    public WidthVector baseWidths() {
        Map<String, Integer> widths = new LinkedHashMap<>();
        widths.put("stem", STEM);
        for (int i = 0; i < BLOCKS.length; i++) {
            widths.put("block" + (i + 1) + ".pw", BLOCKS[i][0]);
        }
        return WidthVector.of(widths);
    }

    @Override
    public ComputationGraph build(ModelSpec spec) {
        GraphSketch g = new GraphSketch(spec);
        int channels = g.width("stem");
        String x = g.conv("stem", GraphSketch.INPUT, g.inputChannels(), channels, 3, 1, Activation.RELU);
        for (int i = 0; i < BLOCKS.length; i++) {
            String name = "block" + (i + 1);
            x = g.depthwise(name + ".dw", x, channels, 3, BLOCKS[i][1], Activation.RELU);
            int out = g.width(name + ".pw");
            x = g.conv(name + ".pw", x, channels, out, 1, 1, Activation.RELU);
            channels = out;
        }
        return g.classifier(x, channels);
    }
}
