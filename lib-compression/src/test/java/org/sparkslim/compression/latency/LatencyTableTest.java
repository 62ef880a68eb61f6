package org.sparkslim.compression.latency;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LatencyTableTest {
    private record Unit(String key, String summary) implements TimedUnit {
    }

    private static final Unit CONV = new Unit("conv", "a convolution");
    private static final Unit ADD = new Unit("add", "an addition");

    @Test
    void anEstimateTimesWhatTheTableLacksOnceAndSumsTheCallAndEveryUnit() {
        List<String> timed = new ArrayList<>();
        LatencyTable.UnitTimer<Unit, RuntimeException> units = (u, batch) -> {
            timed.add(u.key() + "@" + batch);
            return u == CONV ? 2.0 : 0.5;
        };
        LatencyTable empty = new LatencyTable("test", List.of());
        LatencyTable.Estimated first = empty.estimate(List.of(CONV, ADD, CONV, CONV), 8, batch -> 0.25, units);
        assertEquals(List.of("conv@8", "add@8"), timed, "each distinct unit once");
        assertEquals(0.25 + 3 * 2.0 + 0.5, first.estimate().millis(), 1e-12, "the call once, repeated units again");
        assertEquals(4, first.estimate().units());
        assertEquals(2, first.estimate().timedNow());
        assertEquals(0, empty.entries().size(), "the table given is left as it was");

        LatencyTable.Estimated again = first.table().estimate(List.of(ADD, CONV), 8, batch -> {
            throw new AssertionError("the call is in the table");
        }, units);
        assertEquals(2, timed.size(), "nothing timed again");
        assertEquals(0.25 + 2.0 + 0.5, again.estimate().millis(), 1e-12);
        assertEquals(0, again.estimate().timedNow());
        assertSame(first.table(), again.table(), "a table lacking nothing is the result's table");
    }

    @Test
    void aBatchSizeIsTimedApartAndAMissingEntryIsNamed() {
        LatencyTable table = new LatencyTable("test", List.of()).estimate(List.of(CONV), 1, b -> 0.1, (u, b) -> 1.0)
                .table();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> table.estimateMillis(List.of(CONV), 64));
        assertTrue(e.getMessage().contains("(one call) at batch 64"), e.getMessage());
        LatencyTable withCall = table.with(new LatencyTable.Entry(LatencyTable.CALL, LatencyTable.CALL, 64, 0.2));
        e = assertThrows(IllegalArgumentException.class, () -> withCall.estimateMillis(List.of(CONV), 64));
        assertTrue(e.getMessage().contains("a convolution at batch 64"), e.getMessage());
        LatencyTable.Estimated at64 = table.estimate(List.of(CONV), 64, b -> 0.2, (u, b) -> 3.0);
        assertEquals(1, at64.estimate().timedNow());
        assertEquals(3.2, at64.estimate().millis(), 1e-12);
        assertEquals(4, at64.table().entries().size(), "the call and the unit at each batch size");
    }

    @Test
    void anEnginesCheckedExceptionPassesThrough() {
        LatencyTable table = new LatencyTable("test", List.of());
        assertThrows(IOException.class, () -> table.estimate(List.of(ADD), 1, b -> 0.1, (u, b) -> {
            throw new IOException("no session");
        }));
    }
}
