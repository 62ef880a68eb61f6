package org.sparkslim.compression.util;

/**
 * A partial result computed on part of the data (a partition, a batch): merging the partials of two
 * parts gives the result of both, in any order and grouping, so a cluster can compute one partial per
 * partition and combine them as they arrive.
 *
 * @param <T> the partial's own type
 */
public interface Mergeable<T extends Mergeable<T>> {
    /** This partial combined with {@code other}; may reuse and return {@code this}. */
    T merge(T other);
}
