package org.sparkslim.compression.search;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Simulated annealing over integer tokens, in rounds: {@link #propose} returns a batch of new
 * candidates (each a mutation of the current tokens, each satisfying the constraint, none evaluated
 * before) for a cluster to evaluate together; {@link #update} takes their rewards, keeps the best
 * candidate ever seen apart, and moves the current tokens to the round's best candidate by the
 * Metropolis rule at the round's temperature. With batches of one this is textbook annealing; a
 * larger batch makes each step a best-of-k proposal from the same state, which is still a Markov
 * chain over the current tokens that accepts a worse state with the usual probability.
 *
 * <p>The random draws of round {@code r} derive from the seed and {@code r} alone, so a search
 * resumed from its {@link AnnealingState} continues exactly as the uninterrupted one would.
 */
public final class AnnealingController {
    private static final long PROPOSALS = 0x9E3779B97F4A7C15L;
    private static final long ACCEPTANCE = 0xC2B2AE3D27D4EB4FL;

    private final TokenSpace space;
    private final AnnealingSettings settings;
    private final Constraint constraint;
    private final int[] initialTokens;
    private final List<Evaluation> history = new ArrayList<>();
    private final Set<List<Integer>> evaluated = new HashSet<>();
    private int rounds;
    private Evaluation current;
    private Evaluation best;
    private List<int[]> pending;

    /**
     * @param initialTokens where the search starts when they satisfy the constraint (say, every layer
     *                      kept whole); otherwise, or when null, it starts from random tokens that do
     */
    public AnnealingController(TokenSpace space, AnnealingSettings settings, Constraint constraint, int[] initialTokens) {
        this(space, settings, constraint, initialTokens, AnnealingState.START);
    }

    private AnnealingController(TokenSpace space, AnnealingSettings settings, Constraint constraint, int[] initialTokens,
                                AnnealingState state) {
        if (initialTokens != null && !space.contains(initialTokens)) {
            throw new IllegalArgumentException("initial tokens " + Arrays.toString(initialTokens) + " are outside " + space);
        }
        this.space = space;
        this.settings = settings;
        this.constraint = constraint;
        this.initialTokens = initialTokens == null ? null : initialTokens.clone();
        this.rounds = state.rounds();
        this.current = state.current();
        this.best = state.best();
        for (Evaluation e : state.history()) {
            history.add(e);
            evaluated.add(key(e.tokens()));
        }
    }

    /** Continues a search from the state it saved after a round. */
    public static AnnealingController resume(TokenSpace space, AnnealingSettings settings, Constraint constraint,
                                             int[] initialTokens, AnnealingState state) {
        return new AnnealingController(space, settings, constraint, initialTokens, state);
    }

    /**
     * The next round's {@code count} candidates: distinct, new, within the constraint.
     *
     * @throws NoFeasibleCandidateException when {@code maxRetries} draws for one candidate all failed
     */
    public List<int[]> propose(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("a round proposes at least one candidate, not " + count);
        }
        if (pending != null) {
            throw new IllegalStateException("round " + (rounds + 1) + " was proposed and not updated with its rewards");
        }
        int round = rounds + 1;
        SplittableRandom random = new SplittableRandom(settings.seed() ^ (PROPOSALS * round));
        Set<List<Integer>> taken = new HashSet<>(evaluated);
        List<int[]> proposals = new ArrayList<>();
        int[] from = current == null ? start(random, taken, round) : current.tokens();
        if (current == null) {
            proposals.add(from);
            taken.add(key(from));
        }
        while (proposals.size() < count) {
            int[] next = neighbour(from, random, taken, round);
            proposals.add(next);
            taken.add(key(next));
        }
        pending = proposals;
        return proposals.stream().map(int[]::clone).toList();
    }

    /** The rewards of the last proposals, in their order; ends the round. */
    public void update(double[] rewards) {
        if (pending == null) {
            throw new IllegalStateException("no proposals wait for rewards: call propose first");
        }
        if (rewards.length != pending.size()) {
            throw new IllegalArgumentException(rewards.length + " rewards for " + pending.size() + " proposals");
        }
        int round = rounds + 1;
        Evaluation roundBest = null;
        for (int i = 0; i < rewards.length; i++) {
            Evaluation e = new Evaluation(pending.get(i), rewards[i], round);
            history.add(e);
            evaluated.add(key(e.tokens()));
            if (roundBest == null || e.reward() > roundBest.reward()) {
                roundBest = e;
            }
        }
        if (best == null || roundBest.reward() > best.reward()) {
            best = roundBest;
        }
        if (current == null || accepts(roundBest.reward() - current.reward(), round)) {
            current = roundBest;
        }
        rounds = round;
        pending = null;
    }

    /** Metropolis: always a better reward, a worse one with probability {@code exp(delta / T)}. */
    private boolean accepts(double delta, int round) {
        if (delta >= 0) {
            return true;
        }
        double draw = new SplittableRandom(settings.seed() ^ (ACCEPTANCE * round)).nextDouble();
        return draw < Math.exp(delta / settings.temperature(round));
    }

    public AnnealingState state() {
        return new AnnealingState(rounds, current, best, history);
    }

    public double temperature() {
        return settings.temperature(rounds + 1);
    }

    private int[] start(SplittableRandom random, Set<List<Integer>> taken, int round) {
        if (initialTokens != null && constraint.allows(initialTokens) && !taken.contains(key(initialTokens))) {
            return initialTokens.clone();
        }
        for (int attempt = 0; attempt < settings.maxRetries(); attempt++) {
            int[] tokens = space.random(random);
            if (!taken.contains(key(tokens)) && constraint.allows(tokens)) {
                return tokens;
            }
        }
        throw noCandidate("random tokens", round);
    }

    /**
     * A new, allowed mutation of {@code from}; when every draw at the configured number of positions
     * fails (a converged search has seen its whole neighbourhood), mutations of more positions.
     */
    private int[] neighbour(int[] from, SplittableRandom random, Set<List<Integer>> taken, int round) {
        int most = Math.max(settings.mutatedPositions(), space.mutablePositions());
        for (int positions = settings.mutatedPositions(); positions <= most; positions++) {
            for (int attempt = 0; attempt < settings.maxRetries(); attempt++) {
                int[] tokens = space.mutate(from, positions, random);
                if (!taken.contains(key(tokens)) && constraint.allows(tokens)) {
                    return tokens;
                }
            }
        }
        throw noCandidate("mutations of " + Arrays.toString(from) + " (at each number of positions up to " + most + ")",
                round);
    }

    private NoFeasibleCandidateException noCandidate(String what, int round) {
        return new NoFeasibleCandidateException(String.format(
                "round %d: none of %d %s satisfies the constraint (%s) and is new (%d candidates evaluated); widen the"
                        + " constraint or the token ranges, or raise max-retries", round, settings.maxRetries(), what,
                constraint.description(), evaluated.size()));
    }

    private static List<Integer> key(int[] tokens) {
        return Arrays.stream(tokens).boxed().toList();
    }
}
