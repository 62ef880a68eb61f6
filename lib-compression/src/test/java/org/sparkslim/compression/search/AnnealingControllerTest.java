package org.sparkslim.compression.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class AnnealingControllerTest {
    private static final int[] TARGET = {7, 2, 9, 0, 4, 6, 3, 8};
    private static final TokenSpace DIGITS = TokenSpace.ofChoices(10, 10, 10, 10, 10, 10, 10, 10);

    private static double closeness(int[] tokens) {
        return -IntStream.range(0, tokens.length).map(i -> (tokens[i] - TARGET[i]) * (tokens[i] - TARGET[i])).sum();
    }

    private static AnnealingSettings settings(long seed) {
        return new AnnealingSettings(10, 0.9, 1, 500, seed);
    }

    /** Runs {@code rounds} rounds of {@code batch} proposals, each rewarded by {@code reward}. */
    private static void run(AnnealingController search, int rounds, int batch, ToDoubleFunction<int[]> reward) {
        for (int r = 0; r < rounds; r++) {
            search.update(search.propose(batch).stream().mapToDouble(reward).toArray());
        }
    }

    @Test
    void proposalsAreNewMutationsOfTheCurrentTokensWithinRangesAndConstraint() {
        TokenSpace space = new TokenSpace(new int[] {0, 2, 0, 5, 0}, new int[] {5, 7, 5, 6, 5});
        Constraint sumAtMost = new Constraint("tokens sum to at most 12", t -> Arrays.stream(t).sum() <= 12);
        AnnealingController search = new AnnealingController(space, new AnnealingSettings(1, 0.95, 2, 1000, 3),
                sumAtMost, new int[] {0, 2, 0, 5, 0});
        Set<List<Integer>> seen = new HashSet<>();
        for (int round = 1; round <= 25; round++) {
            int[] from = round == 1 ? null : search.state().current().tokens();
            List<int[]> proposals = search.propose(4);
            assertEquals(4, proposals.size());
            for (int[] p : proposals) {
                assertTrue(space.contains(p), Arrays.toString(p));
                assertTrue(sumAtMost.allows(p), Arrays.toString(p));
                assertEquals(5, p[3], "a position with one value never changes");
                assertTrue(seen.add(Arrays.stream(p).boxed().toList()), "evaluated twice: " + Arrays.toString(p));
                if (from != null) {
                    int[] f = from;
                    long changed = IntStream.range(0, p.length).filter(i -> p[i] != f[i]).count();
                    assertEquals(2, changed, "two positions mutated: " + Arrays.toString(f) + " -> " + Arrays.toString(p));
                }
            }
            search.update(proposals.stream().mapToDouble(p -> -Math.abs(Arrays.stream(p).sum() - 11)).toArray());
        }
        assertEquals(100, search.state().history().size());
    }

    @Test
    void findsTheBestTokensOfASmoothRewardAndKeepsThemApartFromTheCurrentOnes() {
        AnnealingController search = new AnnealingController(DIGITS, settings(42), Constraint.NONE, new int[8]);
        run(search, 150, 4, AnnealingControllerTest::closeness);
        AnnealingState state = search.state();
        assertTrue(state.best().reward() >= -1, "best " + state.best());
        double bestInHistory = state.history().stream().mapToDouble(Evaluation::reward).max().orElseThrow();
        assertEquals(bestInHistory, state.best().reward());
        assertTrue(state.current().reward() <= state.best().reward());
    }

    @Test
    void theSameSeedGivesTheSameSearchAndAnotherSeedAnotherOne() {
        List<AnnealingState> states = new ArrayList<>();
        for (long seed : new long[] {5, 5, 6}) {
            AnnealingController search = new AnnealingController(DIGITS, settings(seed), Constraint.NONE, new int[8]);
            run(search, 20, 3, AnnealingControllerTest::closeness);
            states.add(search.state());
        }
        assertEquals(states.get(0), states.get(1));
        assertNotEquals(states.get(0).history(), states.get(2).history());
    }

    @Test
    void aResumedSearchEndsWhereTheUninterruptedOneEnds() {
        AnnealingController whole = new AnnealingController(DIGITS, settings(9), Constraint.NONE, null);
        run(whole, 30, 3, AnnealingControllerTest::closeness);

        AnnealingController first = new AnnealingController(DIGITS, settings(9), Constraint.NONE, null);
        run(first, 12, 3, AnnealingControllerTest::closeness);
        first.propose(3); // the proposals of round 13 are lost with the process
        AnnealingState saved = first.state();
        AnnealingState readBack = new AnnealingState(saved.rounds(), saved.current(), saved.best(),
                new ArrayList<>(saved.history()));
        AnnealingController resumed = AnnealingController.resume(DIGITS, settings(9), Constraint.NONE, null, readBack);
        run(resumed, 18, 3, AnnealingControllerTest::closeness);

        assertEquals(whole.state(), resumed.state());
    }

    @Test
    void aWorseCandidateIsAcceptedOnlyAsTheTemperatureAllows() {
        // every new candidate is worse than all before it
        int[] evaluated = {0};
        ToDoubleFunction<int[]> worse = t -> -(evaluated[0]++);
        AnnealingController hot = new AnnealingController(DIGITS, new AnnealingSettings(1e9, 1, 1, 100, 1),
                Constraint.NONE, new int[8]);
        AnnealingController cold = new AnnealingController(DIGITS, new AnnealingSettings(1e-9, 1, 1, 100, 1),
                Constraint.NONE, new int[8]);
        for (int round = 1; round <= 10; round++) {
            run(hot, 1, 2, worse);
            run(cold, 1, 2, worse);
            assertEquals(round, hot.state().current().round(), "a hot search moves every round");
            assertEquals(1, cold.state().current().round(), "a cold search stays with its first candidate");
            assertEquals(1, cold.state().best().round());
        }
    }

    @Test
    void aConstraintNothingSatisfiesFailsWithItsDescription() {
        Constraint impossible = new Constraint("MACs at most 1% of the dense model's", t -> false);
        AnnealingController search = new AnnealingController(DIGITS, settings(1), impossible, new int[8]);
        NoFeasibleCandidateException e = assertThrows(NoFeasibleCandidateException.class, () -> search.propose(2));
        assertTrue(e.getMessage().contains("MACs at most 1% of the dense model's"), e.getMessage());
        assertTrue(e.getMessage().contains("500 random tokens"), e.getMessage());
    }

    @Test
    void initialTokensOutsideTheConstraintAreReplacedByRandomOnesInsideIt() {
        Constraint atLeast40 = new Constraint("tokens sum to at least 40", t -> Arrays.stream(t).sum() >= 40);
        AnnealingController search = new AnnealingController(DIGITS, settings(2), atLeast40, new int[8]);
        int[] first = search.propose(1).get(0);
        assertTrue(atLeast40.allows(first), Arrays.toString(first));
    }

    @Test
    void aSearchThatHasSeenEveryCandidateSaysSo() {
        AnnealingController search = new AnnealingController(TokenSpace.ofChoices(2, 2), settings(1), Constraint.NONE,
                new int[2]);
        run(search, 1, 3, t -> t[0] + t[1]);
        // the current tokens' only unseen neighbour, if any, goes next; then nothing new is left
        NoFeasibleCandidateException e = assertThrows(NoFeasibleCandidateException.class,
                () -> run(search, 2, 1, t -> t[0] + t[1]));
        assertTrue(e.getMessage().contains("is new"), e.getMessage());
        assertEquals(4, search.state().history().size());
    }

    @Test
    void misuseIsRefused() {
        AnnealingController search = new AnnealingController(DIGITS, settings(1), Constraint.NONE, null);
        assertThrows(IllegalStateException.class, () -> search.update(new double[1]));
        search.propose(2);
        assertThrows(IllegalStateException.class, () -> search.propose(2));
        assertThrows(IllegalArgumentException.class, () -> search.update(new double[3]));
        assertThrows(IllegalArgumentException.class, () -> search.update(new double[] {1, Double.NaN}));
        assertThrows(IllegalArgumentException.class, () -> new AnnealingSettings(1, 1.5, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new TokenSpace(new int[] {0, 3}, new int[] {1, 3}));
        assertThrows(IllegalArgumentException.class, () -> new TokenSpace(new int[] {0}, new int[] {1}));
        assertFalse(DIGITS.contains(new int[] {10, 0, 0, 0, 0, 0, 0, 0}));
        assertEquals(100_000_000L, DIGITS.size());
        assertEquals(Long.MAX_VALUE, TokenSpace.ofChoices(IntStream.range(0, 40).map(i -> 1000).toArray()).size());
    }
}
