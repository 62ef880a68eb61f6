package org.sparkslim.compression.model;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;

/**
 * A small MobileNetV2: a 3x3 stem of 16 channels (BN, ReLU6), inverted residual blocks with
 * (expansion t, channels c, repeats n, stride s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,2,1), a
 * 1x1 head of 256 channels, GAP and a dense classifier.
 *
 * <p>A block is expand 1x1 (when t > 1) + BN + ReLU6, depthwise 3x3 + BN + ReLU6, project 1x1 + BN
 * (linear), with an identity shortcut when the stride is 1 and the input and output widths are
 * equal. Width slots: {@code stageN} is the output width of the N-th (t, c, n, s) row, shared by all
 * its blocks because of the shortcuts (the stem shares stage 1's, whose block adds it), each
 * {@code blockM.expand}, and {@code head}.
 */
public final class MobileNetV2 implements ModelFamily {
    private static final int STEM = 16;
    private static final int HEAD = 256;
    /** t, c, n, s. */
    private static final int[][] STAGES = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 2, 1}};

    @Override
    public String name() {
        return "mobilenetv2";
    }

    @Override
    public String description() {
        return "MobileNetV2: 3x3 stem 16, inverted residuals (1,16,1,1)(6,24,2,2)(6,32,3,2)(6,64,2,1), 1x1 head 256, GAP, dense";
    }

    @Override
    public WidthVector baseWidths() {
        Map<String, Integer> widths = new LinkedHashMap<>();
        int block = 0;
        int channels = STEM;
        for (int s = 0; s < STAGES.length; s++) {
            int[] row = STAGES[s];
            widths.put("stage" + (s + 1), row[1]);
            for (int r = 0; r < row[2]; r++) {
                block++;
                if (row[0] != 1) {
                    widths.put("block" + block + ".expand", channels * row[0]);
                }
                channels = row[1];
            }
        }
        widths.put("head", HEAD);
        return WidthVector.of(widths);
    }

    @Override
    public ComputationGraph build(ModelSpec spec) {
        GraphSketch g = new GraphSketch(spec);
        // The stem feeds stage 1's first block, whose shortcut adds the stem's output to the block's:
        // both have stage 1's width (16 = 16 in the reference layout).
        boolean stemJoinsStage1 = STEM == STAGES[0][1] && STAGES[0][3] == 1;
        int channels = stemJoinsStage1 ? g.width("stage1") : STEM;
        String x = g.conv("stem", GraphSketch.INPUT, g.inputChannels(), channels, 3, 1, Activation.RELU6);
        int block = 0;
        for (int s = 0; s < STAGES.length; s++) {
            int[] row = STAGES[s];
            int out = g.width("stage" + (s + 1));
            for (int r = 0; r < row[2]; r++) {
                block++;
                String name = "block" + block;
                int stride = r == 0 ? row[3] : 1;
                // The reference layout decides where shortcuts are; a narrower member keeps them.
                boolean residual = stride == 1 && (r > 0 || (s == 0 && stemJoinsStage1));
                String y = x;
                int hidden = channels;
                if (row[0] != 1) {
                    hidden = g.width(name + ".expand");
                    y = g.conv(name + ".expand", y, channels, hidden, 1, 1, Activation.RELU6);
                }
                y = g.depthwise(name + ".dw", y, hidden, 3, stride, Activation.RELU6);
                y = g.conv(name + ".project", y, hidden, out, 1, 1, null);
                x = residual ? g.add(name + ".add", y, x) : y;
                channels = out;
            }
        }
        x = g.conv("head", x, channels, g.width("head"), 1, 1, Activation.RELU6);
        return g.classifier(x, g.width("head"));
    }
}
