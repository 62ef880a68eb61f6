package org.sparkslim.compression.model;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;

/**
 * A small MobileNetV2 of an {@link InvertedResidualLayout}; the zoo's is the reference layout: a 3x3
 * stem of 16 channels (BN, ReLU6), inverted residual blocks with (expansion t, channels c, repeats n,
 * stride s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,2,1), a 1x1 head of 256 channels, GAP and a
 * dense classifier.
 *
 * <p>A block is expand 1x1 (when t > 1) + BN + ReLU6, depthwise k x k + BN + ReLU6, project 1x1 + BN
 * (linear), with an identity shortcut when the stride is 1 and the input and output widths are
 * equal. Width slots: {@code stageN} is the output width of the N-th stage, shared by all its blocks
 * because of the shortcuts (the stem shares stage 1's when the first block adds it), each
 * {@code blockM.expand}, and {@code head}.
 */
public final class MobileNetV2 implements ModelFamily {
    private final InvertedResidualLayout layout;

    /** The zoo's reference network. */
    public MobileNetV2() {
        this(InvertedResidualLayout.MOBILENET_V2);
    }

    public MobileNetV2(InvertedResidualLayout layout) {
        this.layout = layout;
    }

    public InvertedResidualLayout layout() {
        return layout;
    }

    @Override
    public String name() {
        return "mobilenetv2";
    }

    @Override
    public String description() {
        return "MobileNetV2: 3x3 stem, inverted residual stages (t c n s k), 1x1 head, GAP, dense: " + layout;
    }

    @Override
    public WidthVector baseWidths() {
        Map<String, Integer> widths = new LinkedHashMap<>();
        int block = 0;
        int channels = layout.stem();
        for (int s = 0; s < layout.stages().size(); s++) {
            InvertedResidualLayout.StageRow row = layout.stages().get(s);
            widths.put("stage" + (s + 1), row.channels());
            for (int r = 0; r < row.repeats(); r++) {
                block++;
                if (row.expansion() != 1) {
                    widths.put("block" + block + ".expand", channels * row.expansion());
                }
                channels = row.channels();
            }
        }
        widths.put("head", layout.head());
        return WidthVector.of(widths);
    }

    @Override
    public ComputationGraph build(ModelSpec spec) {
        GraphSketch g = new GraphSketch(spec);
        // When the first block adds the stem's output to its own, both have stage 1's width.
        boolean stemJoinsStage1 = layout.stemJoinsFirstStage();
        int channels = stemJoinsStage1 ? g.width("stage1") : layout.stem();
        String x = g.conv("stem", GraphSketch.INPUT, g.inputChannels(), channels, 3, 1, Activation.RELU6);
        int block = 0;
        for (int s = 0; s < layout.stages().size(); s++) {
            InvertedResidualLayout.StageRow row = layout.stages().get(s);
            int out = g.width("stage" + (s + 1));
            for (int r = 0; r < row.repeats(); r++) {
                block++;
                String name = "block" + block;
                int stride = r == 0 ? row.stride() : 1;
                // The layout decides where shortcuts are; a narrower member keeps them.
                boolean residual = stride == 1 && (r > 0 || (s == 0 && stemJoinsStage1));
                String y = x;
                int hidden = channels;
                if (row.expansion() != 1) {
                    hidden = g.width(name + ".expand");
                    y = g.conv(name + ".expand", y, channels, hidden, 1, 1, Activation.RELU6);
                }
                y = g.depthwise(name + ".dw", y, hidden, row.kernel(), stride, Activation.RELU6);
                y = g.conv(name + ".project", y, hidden, out, 1, 1, null);
                x = residual ? g.add(name + ".add", y, x) : y;
                channels = out;
            }
        }
        x = g.conv("head", x, channels, g.width("head"), 1, 1, Activation.RELU6);
        return g.classifier(x, g.width("head"));
    }
}
