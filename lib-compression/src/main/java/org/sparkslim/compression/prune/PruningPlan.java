package org.sparkslim.compression.prune;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

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
