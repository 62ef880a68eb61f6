package org.sparkslim.compression.latency;

/** What a {@link LatencyTable} keeps a time for: a unit of a network in one engine. */
public interface TimedUnit {
    /** Names what the unit computes (operations, attributes, the shapes it reads), not its weights' values. */
    String key();

    /** A short description for people. */
    String summary();
}
