package org.sparkslim.compression.model;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;

/**
 * ResNet-20 for small images: a 3x3 stem, three stages of three basic blocks (16, 32, 64 channels;
 * the first block of stages 2 and 3 has stride 2 and a 1x1 projection shortcut), global average
 * pooling and a dense classifier.
 *
 * <p>Width slots: {@code stageN} is the residual width of stage N (the stem shares stage 1's, since
 * its output is added to it), and {@code stageN.blockM.conv1} is each block's inner width.
 */
public final class ResNet20 implements ModelFamily {
    private static final int STAGES = 3;
    private static final int BLOCKS = 3;
    private static final int[] STAGE_WIDTHS = {16, 32, 64};

    @Override
    public String name() {
        return "resnet20";
    }

    @Override
    public String description() {
        return "ResNet-20: 3x3 stem, 3 stages x 3 basic blocks (16/32/64), projection shortcuts, GAP, dense";
    }

    @Override
    public WidthVector baseWidths() {
        Map<String, Integer> widths = new LinkedHashMap<>();
        for (int s = 1; s <= STAGES; s++) {
            widths.put("stage" + s, STAGE_WIDTHS[s - 1]);
            for (int b = 1; b <= BLOCKS; b++) {
                widths.put(block(s, b) + ".conv1", STAGE_WIDTHS[s - 1]);
            }
        }
        return WidthVector.of(widths);
    }

    @Override
    public ComputationGraph build(ModelSpec spec) {
        GraphSketch g = new GraphSketch(spec);
        int channels = g.width("stage1");
        String x = g.conv("stem", GraphSketch.INPUT, g.inputChannels(), channels, 3, 1, Activation.RELU);
        for (int s = 1; s <= STAGES; s++) {
            int out = g.width("stage" + s);
            for (int b = 1; b <= BLOCKS; b++) {
                String name = block(s, b);
                int stride = (s > 1 && b == 1) ? 2 : 1;
                int inner = g.width(name + ".conv1");
                String y = g.conv(name + ".conv1", x, channels, inner, 3, stride, Activation.RELU);
                y = g.conv(name + ".conv2", y, inner, out, 3, 1, null);
                String shortcut = x;
                if (stride != 1 || channels != out) {
                    shortcut = g.conv(name + ".shortcut", x, channels, out, 1, stride, null);
                }
                String sum = g.add(name + ".add", y, shortcut);
                x = g.activation(name + ".relu", sum, Activation.RELU);
                channels = out;
            }
        }
        return g.classifier(x, channels);
    }

    private static String block(int stage, int block) {
        return "stage" + stage + ".block" + block;
    }
}
