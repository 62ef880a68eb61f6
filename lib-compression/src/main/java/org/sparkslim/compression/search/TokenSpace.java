package org.sparkslim.compression.search;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The integer tokens a search chooses: position {@code i} takes a value in {@code [low[i], high[i])}
 * (for a choice from a list, the list's index: low 0, high its size). A position with one value is
 * fixed and never mutated.
 */
public final class TokenSpace {
    private final int[] low;
    private final int[] high;
    private final int[] mutable;

    public TokenSpace(int[] low, int[] high) {
        if (low.length != high.length || low.length == 0) {
            throw new IllegalArgumentException("a token space needs as many lows as highs, at least one: "
                    + low.length + " lows, " + high.length + " highs");
        }
        for (int i = 0; i < low.length; i++) {
            if (low[i] >= high[i]) {
                throw new IllegalArgumentException("token " + i + ": range [" + low[i] + ", " + high[i] + ") is empty");
            }
        }
        this.low = low.clone();
        this.high = high.clone();
        this.mutable = IntStream.range(0, low.length).filter(i -> high[i] - low[i] > 1).toArray();
        if (mutable.length == 0) {
            throw new IllegalArgumentException("every token of the space is fixed: there is nothing to search");
        }
    }

    /** Choices from lists of these sizes: token {@code i} is an index in {@code [0, sizes[i])}. */
    public static TokenSpace ofChoices(int... sizes) {
        return new TokenSpace(new int[sizes.length], sizes);
    }

    public int length() {
        return low.length;
    }

    public int low(int position) {
        return low[position];
    }

    public int high(int position) {
        return high[position];
    }

    /** How many positions can change. */
    int mutablePositions() {
        return mutable.length;
    }

    /** How many distinct token lists the space holds (saturating at {@link Long#MAX_VALUE}). */
    public long size() {
        long size = 1;
        for (int i = 0; i < low.length; i++) {
            try {
                size = Math.multiplyExact(size, high[i] - low[i]);
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE;
            }
        }
        return size;
    }

    public boolean contains(int[] tokens) {
        if (tokens.length != low.length) {
            return false;
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < low[i] || tokens[i] >= high[i]) {
                return false;
            }
        }
        return true;
    }

    /** Tokens drawn uniformly from the space. */
    int[] random(SplittableRandom random) {
        int[] tokens = new int[low.length];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = random.nextInt(low[i], high[i]);
        }
        return tokens;
    }

    /**
     * A neighbour of {@code tokens}: {@code positions} distinct mutable positions (at most all of them)
     * each set to another value of its range, so the result always differs from the input.
     */
    int[] mutate(int[] tokens, int positions, SplittableRandom random) {
        int[] next = tokens.clone();
        int[] order = mutable.clone();
        int count = Math.min(positions, order.length);
        for (int k = 0; k < count; k++) {
            int pick = k + random.nextInt(order.length - k);
            int position = order[pick];
            order[pick] = order[k];
            order[k] = position;
            // another value of the range: draw from one fewer and skip the current one
            int value = random.nextInt(low[position], high[position] - 1);
            next[position] = value >= tokens[position] ? value + 1 : value;
        }
        return next;
    }

    @Override
    public String toString() {
        return "TokenSpace" + Arrays.toString(low) + "-" + Arrays.toString(high);
    }
}
