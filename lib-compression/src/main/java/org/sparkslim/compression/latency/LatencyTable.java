package org.sparkslim.compression.latency;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Measured latencies of {@link TimedUnit}s in one engine on one machine, by unit key and batch size, and
 * the engine's cost of one call (a run of an empty model), which a unit timed alone pays once and a
 * network pays once for all its units. A network's estimated latency is that cost plus its units'.
 */
public final class LatencyTable {
    /** The key of the entry that holds the cost of one call. */
    public static final String CALL = "(one call)";

    /** One measurement: a unit (or {@link #CALL}) at a batch size, median milliseconds. */
    public record Entry(String key, String summary, int batch, double millis) {
    }

    /**
     * A network's estimate: milliseconds, the number of units summed and how many of them were timed
     * for it (the table lacked them).
     */
    public record Estimate(double millis, int units, int timedNow) {
    }

    private final String engine;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    public LatencyTable(String engine, List<Entry> entries) {
        this.engine = engine;
        entries.forEach(e -> this.entries.put(id(e.key(), e.batch()), e));
    }

    private static String id(String key, int batch) {
        return batch + " " + key;
    }

    public String engine() {
        return engine;
    }

    public List<Entry> entries() {
        return List.copyOf(entries.values());
    }

    public boolean has(String key, int batch) {
        return entries.containsKey(id(key, batch));
    }

    /** This table with {@code entry} added (or replaced). */
    public LatencyTable with(Entry entry) {
        LatencyTable t = new LatencyTable(engine, entries());
        t.entries.put(id(entry.key(), entry.batch()), entry);
        return t;
    }

    /**
     * The estimated milliseconds of one call of a network made of {@code units} at {@code batch}.
     *
     * @throws IllegalArgumentException naming the first unit (or the call) the table lacks
     */
    public double estimateMillis(List<? extends TimedUnit> units, int batch) {
        double total = millis(CALL, CALL, batch);
        for (TimedUnit unit : units) {
            total += millis(unit.key(), unit.summary(), batch);
        }
        return total;
    }

    private double millis(String key, String summary, int batch) {
        Entry e = entries.get(id(key, batch));
        if (e == null) {
            throw new IllegalArgumentException("the " + engine + " latency table has no entry for " + summary
                    + " at batch " + batch);
        }
        return e.millis();
    }
}
