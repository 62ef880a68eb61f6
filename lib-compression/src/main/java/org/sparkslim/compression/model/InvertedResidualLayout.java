package org.sparkslim.compression.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.Serializable;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A MobileNetV2-like layout: a 3x3 stem, stages of inverted residual blocks, a 1x1 head. The zoo's
 * {@code mobilenetv2} is {@link #MOBILENET_V2}; a Light-NAS search chooses others.
 *
 * @param stem   the stem's output channels
 * @param stages the stages, in order
 * @param head   the head's output channels
 */
public record InvertedResidualLayout(int stem, List<StageRow> stages, int head) implements Serializable {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The reference layout: (t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,2,1), 3x3 depthwise kernels. */
    public static final InvertedResidualLayout MOBILENET_V2 = new InvertedResidualLayout(16, List.of(
            new StageRow(1, 16, 1, 1, 3), new StageRow(6, 24, 2, 2, 3), new StageRow(6, 32, 3, 2, 3),
            new StageRow(6, 64, 2, 1, 3)), 256);

    /**
     * One stage: {@code repeats} blocks of expansion {@code t}, output {@code channels}, the first of
     * stride {@code stride}, depthwise kernels {@code kernel} x {@code kernel}.
     */
    public record StageRow(int expansion, int channels, int repeats, int stride, int kernel) implements Serializable {
        public StageRow {
            if (expansion < 1 || channels < 1 || repeats < 1 || stride < 1 || kernel < 1 || kernel % 2 == 0) {
                throw new IllegalArgumentException("a stage needs expansion, channels, repeats and stride of at least 1"
                        + " and an odd kernel; got t=" + expansion + " c=" + channels + " n=" + repeats + " s=" + stride
                        + " k=" + kernel);
            }
        }

        @Override
        public String toString() {
            return "t" + expansion + " c" + channels + " n" + repeats + " s" + stride + " k" + kernel;
        }
    }

    public InvertedResidualLayout {
        stages = List.copyOf(stages);
        if (stem < 1 || head < 1 || stages.isEmpty()) {
            throw new IllegalArgumentException("a layout needs a stem and a head of at least 1 channel and a stage; got"
                    + " stem " + stem + ", head " + head + ", " + stages.size() + " stages");
        }
    }

    /** Whether the stem's output joins the first block's through a shortcut (same width, stride 1, no expansion). */
    public boolean stemJoinsFirstStage() {
        StageRow first = stages.get(0);
        return stem == first.channels() && first.stride() == 1;
    }

    /** One line, the stages between the stem's and the head's widths: {@code 16 | t1 c16 n1 s1 k3 | ... | 256}. */
    @Override
    public String toString() {
        return stem + " | " + stages.stream().map(StageRow::toString).collect(Collectors.joining(" | ")) + " | " + head;
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @param origin where the text came from, for the error message */
    public static InvertedResidualLayout fromJson(String json, String origin) {
        try {
            return JSON.readValue(json, InvertedResidualLayout.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new IllegalArgumentException(origin + ": not a valid inverted-residual layout (" + e.getMessage() + ")",
                    e);
        }
    }
}
