package org.sparkslim.compression.search;

/** A search drew its maximum number of times without finding a new candidate that satisfies its constraint. */
public final class NoFeasibleCandidateException extends IllegalStateException {
    NoFeasibleCandidateException(String message) {
        super(message);
    }
}
