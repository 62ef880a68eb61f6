package org.sparkslim.compression.search;

import java.util.Arrays;

/** A candidate's tokens and the reward it earned in the round that proposed it. */
public record Evaluation(int[] tokens, double reward, int round) {
    public Evaluation {
        if (Double.isNaN(reward)) {
            throw new IllegalArgumentException("the reward of " + Arrays.toString(tokens) + " is NaN");
        }
        tokens = tokens.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Evaluation e && Arrays.equals(tokens, e.tokens) && Double.compare(reward, e.reward) == 0
                && round == e.round;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(tokens) + Double.hashCode(reward)) + round;
    }

    @Override
    public String toString() {
        return Arrays.toString(tokens) + " -> " + reward + " (round " + round + ")";
    }
}
