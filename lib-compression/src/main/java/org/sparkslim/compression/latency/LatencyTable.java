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

    /** An estimate with the table it came from (this one, with what was timed for it). */
    public record Estimated(Estimate estimate, LatencyTable table) {
    }

    /** How an engine times a unit at a batch size, in milliseconds; {@code E}: its checked exception. */
    @FunctionalInterface
    public interface UnitTimer<U extends TimedUnit, E extends Exception> {
        double millis(U unit, int batch) throws E;
    }

    /** How an engine times one call (of an empty model) at a batch size, in milliseconds. */
    @FunctionalInterface
    public interface CallTimer<E extends Exception> {
        double millis(int batch) throws E;
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
     * The estimate of a network made of {@code units} at {@code batch}, timing first the call and the
     * units this table lacks: a search over widths fills its table as it meets new shapes.
     *
     * @param call the cost of one call
     * @param unit a unit's cost
     */
    public <U extends TimedUnit, E extends Exception> Estimated estimate(
            List<U> units, int batch, CallTimer<E> call, UnitTimer<? super U, E> unit) throws E {
        LatencyTable t = this;
        if (!t.has(CALL, batch)) {
            t = t.with(new Entry(CALL, CALL, batch, call.millis(batch)));
        }
        int timed = 0;
        for (U u : units) {
            if (!t.has(u.key(), batch)) {
                t = t.with(new Entry(u.key(), u.summary(), batch, unit.millis(u, batch)));
                timed++;
            }
        }
        return new Estimated(new Estimate(t.estimateMillis(units, batch), units.size(), timed), t);
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
