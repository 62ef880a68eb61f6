package org.sparkslim.compression.prune;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Which channels of which groups to keep, and which residual blocks to remove: a value that can be
 * saved as JSON next to the model, read back, and replayed on the same network ({@link Pruner#apply}).
 *
 * @param criterion     how the channels were ranked (for the record)
 * @param groups        the groups that lose channels; any other group keeps all of its channels
 * @param removedBlocks the {@link ResidualBlock}s removed whole, by name (absent in plans without any)
 */
public record PruningPlan(String criterion, List<GroupPlan> groups, List<String> removedBlocks)
        implements Serializable {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public PruningPlan {
        groups = List.copyOf(groups);
        removedBlocks = removedBlocks == null ? List.of() : List.copyOf(removedBlocks);
    }

    /** A plan that only narrows channel groups. */
    public PruningPlan(String criterion, List<GroupPlan> groups) {
        this(criterion, groups, List.of());
    }

    /** True when replaying the plan would leave the network as it is. */
    @JsonIgnore
    public boolean isEmpty() {
        return groups.isEmpty() && removedBlocks.isEmpty();
    }

    /** One group: its name and size in the original network, and the kept channel indices (ascending). */
    public record GroupPlan(String group, int size, int[] kept) implements Serializable {
        public GroupPlan {
            kept = kept.clone();
            Arrays.sort(kept);
            if (kept.length == 0) {
                throw new IllegalArgumentException("group '" + group + "' would keep no channel");
            }
            for (int i = 0; i < kept.length; i++) {
                if (kept[i] < 0 || kept[i] >= size || (i > 0 && kept[i] == kept[i - 1])) {
                    throw new IllegalArgumentException("group '" + group
                            + "': kept channels must be distinct indices in [0, " + size + "), got "
                            + Arrays.toString(kept));
                }
            }
        }

        public double ratio() {
            return 1 - kept.length / (double) size;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof GroupPlan g && g.group.equals(group) && g.size == size && Arrays.equals(g.kept, kept);
        }

        @Override
        public int hashCode() {
            return group.hashCode() * 31 + Arrays.hashCode(kept);
        }
    }

    public static PruningPlan empty(String criterion) {
        return new PruningPlan(criterion, List.of());
    }

    public GroupPlan group(String name) {
        return groups.stream().filter(g -> g.group().equals(name)).findFirst().orElse(null);
    }

    /**
     * This plan followed by {@code next}, which was made for the network this plan produces: one plan
     * for the original network that keeps the channels both keep and removes the blocks either removes.
     * Replaying it gives the network that replaying both in turn gives.
     */
    public PruningPlan then(PruningPlan next) {
        Map<String, GroupPlan> composed = new LinkedHashMap<>();
        groups.forEach(g -> composed.put(g.group(), g));
        for (GroupPlan later : next.groups) {
            GroupPlan first = composed.get(later.group());
            if (first == null) {
                composed.put(later.group(), later);
                continue;
            }
            if (later.size() != first.kept().length) {
                throw new IllegalArgumentException("group '" + later.group() + "' has " + first.kept().length
                        + " channels after the first plan, but the next plan was made for " + later.size());
            }
            int[] kept = Arrays.stream(later.kept()).map(i -> first.kept()[i]).toArray();
            composed.put(later.group(), new GroupPlan(later.group(), first.size(), kept));
        }
        List<String> blocks = new ArrayList<>(removedBlocks);
        next.removedBlocks.stream().filter(b -> !blocks.contains(b)).forEach(blocks::add);
        return new PruningPlan(next.criterion, new ArrayList<>(composed.values()), blocks);
    }

    /**
     * Which of the original network's channels at {@code vertex}'s output the pruned network keeps, in
     * order: the pruned activation there equals the original's at these channels (removed channels
     * silenced), which is what relates a pruned student's features to its dense teacher's.
     *
     * @param graph the channel graph of the network the plan was made for
     */
    public int[] keptChannels(ChannelGraph graph, String vertex) {
        if (!removedBlocks.isEmpty() && graph.branchVertices(removedBlocks).contains(vertex)) {
            throw new IllegalArgumentException("vertex '" + vertex + "' is in a removed residual block");
        }
        List<int[]> parts = new ArrayList<>();
        int offset = 0;
        for (ChannelGraph.Span span : graph.outputSpans(vertex)) {
            if (span.size() < 0) {
                throw new IllegalArgumentException("the channel count of vertex '" + vertex + "' is unknown");
            }
            GroupPlan g = group(span.group());
            int start = offset;
            parts.add(g == null ? IntStream.range(start, start + span.size()).toArray()
                    : Arrays.stream(g.kept()).map(k -> k + start).toArray());
            offset += span.size();
        }
        return parts.stream().flatMapToInt(Arrays::stream).toArray();
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @param origin where the text came from, for the error message */
    public static PruningPlan fromJson(String json, String origin) {
        try {
            return JSON.readValue(json, PruningPlan.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new IllegalArgumentException(origin + ": not a valid pruning plan (" + e.getMessage() + ")", e);
        }
    }
}
