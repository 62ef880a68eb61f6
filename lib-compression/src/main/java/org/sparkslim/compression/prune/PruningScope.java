package org.sparkslim.compression.prune;

import java.io.Serializable;
import java.util.List;
import java.util.stream.IntStream;
import org.sparkslim.compression.util.NamePatterns;

/**
 * Which groups may be pruned and how far: vertex-name patterns ({@code *} and {@code ?} wildcards)
 * that a group's producers must match (include) and must not match (exclude), the fewest channels a
 * group keeps, a multiple that kept channel counts are rounded to (hardware likes multiples of 4
 * or 8), and whether whole residual blocks may be removed (those whose branch convolutions the
 * patterns all allow).
 */
public record PruningScope(List<String> include, List<String> exclude, int minChannels, int roundTo,
                           boolean removeBlocks) implements Serializable {
    public static final PruningScope ALL = new PruningScope(List.of("*"), List.of(), 1, 1);

    public PruningScope {
        include = List.copyOf(include);
        exclude = List.copyOf(exclude);
        if (minChannels < 1 || roundTo < 1) {
            throw new IllegalArgumentException("min channels and round-to must be at least 1");
        }
    }

    /** A scope that narrows channel groups only. */
    public PruningScope(List<String> include, List<String> exclude, int minChannels, int roundTo) {
        this(include, exclude, minChannels, roundTo, false);
    }

    /** A prunable group all of whose producers are included and none excluded. */
    public boolean allows(ChannelGroup group) {
        return group.prunable() && allowsAll(group.producers());
    }

    /** A block, when blocks may be removed and its branch's convolutions are all included and none excluded. */
    public boolean allows(ResidualBlock block) {
        return removeBlocks && allowsAll(block.convolutions());
    }

    private boolean allowsAll(List<String> vertices) {
        return vertices.stream().allMatch(v -> NamePatterns.matchesAny(include, v)
                && !NamePatterns.matchesAny(exclude, v));
    }

    /** How many of {@code size} channels to keep when pruning {@code ratio} of them. */
    public int keptChannels(int size, double ratio) {
        int kept = (int) Math.round(size * (1 - ratio) / roundTo) * roundTo;
        if (kept < minChannels) {
            kept = (minChannels + roundTo - 1) / roundTo * roundTo;
        }
        return Math.min(Math.max(kept, roundTo), size);
    }

    /** Every count {@link #keptChannels} can give for {@code size} channels, largest (size) first. */
    public int[] allowedWidths(int size) {
        return IntStream.rangeClosed(0, size)
                .map(i -> keptChannels(size, i / (double) size)).distinct().toArray();
    }
}
