package org.sparkslim.compression.search;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.sparkslim.compression.model.InvertedResidualLayout;

/**
 * Light-NAS as a token search over MobileNetV2-like layouts: four tokens per stage, the indices of its
 * expansion, output channels, repeats and depthwise kernel among the choices the stage allows. The
 * stem, the head and each stage's stride are fixed. A stage with one choice of a kind never changes it.
 */
public final class ArchitectureSpace {
    private static final int TOKENS_PER_STAGE = 4;

    private final int stem;
    private final int head;
    private final List<StageChoices> stages;
    private final TokenSpace tokens;

    /** What one stage may be: each list's values in the order its token indexes them. */
    public record StageChoices(int[] expansions, int[] channels, int[] repeats, int[] kernels, int stride) {
        public StageChoices {
            for (int[] list : new int[][] {expansions, channels, repeats, kernels}) {
                if (list.length == 0 || Arrays.stream(list).anyMatch(v -> v < 1)
                        || Arrays.stream(list).distinct().count() != list.length) {
                    throw new IllegalArgumentException("a stage's expansions, channels, repeats and kernels are each a"
                            + " non-empty list of distinct positive values; got " + Arrays.toString(list));
                }
            }
            if (Arrays.stream(kernels).anyMatch(k -> k % 2 == 0)) {
                throw new IllegalArgumentException("depthwise kernels are odd; got " + Arrays.toString(kernels));
            }
            expansions = expansions.clone();
            channels = channels.clone();
            repeats = repeats.clone();
            kernels = kernels.clone();
        }

        private int[][] lists() {
            return new int[][] {expansions, channels, repeats, kernels};
        }
    }

    public ArchitectureSpace(int stem, List<StageChoices> stages, int head) {
        if (stages.isEmpty()) {
            throw new IllegalArgumentException("an architecture space needs at least one stage");
        }
        this.stem = stem;
        this.head = head;
        this.stages = List.copyOf(stages);
        int[] sizes = new int[TOKENS_PER_STAGE * stages.size()];
        for (int s = 0; s < stages.size(); s++) {
            int[][] lists = stages.get(s).lists();
            for (int k = 0; k < TOKENS_PER_STAGE; k++) {
                sizes[TOKENS_PER_STAGE * s + k] = lists[k].length;
            }
        }
        this.tokens = TokenSpace.ofChoices(sizes);
    }

    public TokenSpace tokens() {
        return tokens;
    }

    /** The layout tokens {@code t} choose. */
    public InvertedResidualLayout layout(int[] t) {
        if (!tokens.contains(t)) {
            throw new IllegalArgumentException(Arrays.toString(t) + " is outside " + tokens);
        }
        List<InvertedResidualLayout.StageRow> rows = new ArrayList<>();
        for (int s = 0; s < stages.size(); s++) {
            StageChoices c = stages.get(s);
            int at = TOKENS_PER_STAGE * s;
            rows.add(new InvertedResidualLayout.StageRow(c.expansions()[t[at]], c.channels()[t[at + 1]],
                    c.repeats()[t[at + 2]], c.stride(), c.kernels()[t[at + 3]]));
        }
        return new InvertedResidualLayout(stem, rows, head);
    }

    /** {@code count} layouts drawn uniformly from the space with {@code seed} (repeats possible). */
    public List<InvertedResidualLayout> sample(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<InvertedResidualLayout> layouts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            layouts.add(layout(tokens.random(random)));
        }
        return layouts;
    }

    /**
     * The tokens of {@code layout} (say, the zoo's reference network the search starts from).
     *
     * @throws IllegalArgumentException naming the stage and value the space does not offer
     */
    public int[] tokensOf(InvertedResidualLayout layout) {
        if (layout.stem() != stem || layout.head() != head || layout.stages().size() != stages.size()) {
            throw new IllegalArgumentException("the layout " + layout + " does not have this space's stem (" + stem
                    + "), head (" + head + ") and " + stages.size() + " stages");
        }
        int[] t = new int[tokens.length()];
        String[] kinds = {"expansion", "channels", "repeats", "kernel"};
        for (int s = 0; s < stages.size(); s++) {
            InvertedResidualLayout.StageRow row = layout.stages().get(s);
            StageChoices c = stages.get(s);
            if (row.stride() != c.stride()) {
                throw new IllegalArgumentException("stage " + (s + 1) + " of " + layout + " has stride " + row.stride()
                        + ", the space " + c.stride());
            }
            int[] values = {row.expansion(), row.channels(), row.repeats(), row.kernel()};
            int[][] lists = c.lists();
            for (int k = 0; k < TOKENS_PER_STAGE; k++) {
                int index = indexOf(lists[k], values[k]);
                if (index < 0) {
                    throw new IllegalArgumentException("stage " + (s + 1) + " of " + layout + ": " + kinds[k] + " "
                            + values[k] + " is not among the space's " + Arrays.toString(lists[k]));
                }
                t[TOKENS_PER_STAGE * s + k] = index;
            }
        }
        return t;
    }

    private static int indexOf(int[] values, int value) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] == value) {
                return i;
            }
        }
        return -1;
    }
}
