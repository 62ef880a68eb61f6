package org.sparkslim.compression.search;

import java.util.List;

/**
 * Everything a search needs to continue after {@code rounds} rounds: together with its settings (the
 * seed), resuming from it proposes exactly what the uninterrupted search would have.
 *
 * @param current the candidate the next proposals mutate (null before the first round)
 * @param best    the best candidate evaluated so far, kept apart from {@code current}
 * @param history every candidate evaluated, in order
 */
public record AnnealingState(int rounds, Evaluation current, Evaluation best, List<Evaluation> history) {
    public AnnealingState {
        history = List.copyOf(history);
        if ((current == null) != (rounds == 0) || (best == null) != (rounds == 0)) {
            throw new IllegalArgumentException("a search state has a current and a best candidate exactly when a round"
                    + " has ended; rounds " + rounds + ", current " + current + ", best " + best);
        }
    }

    public static final AnnealingState START = new AnnealingState(0, null, null, List.of());
}
