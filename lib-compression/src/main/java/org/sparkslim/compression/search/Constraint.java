package org.sparkslim.compression.search;

import java.util.function.Predicate;

/**
 * What every candidate of a search must satisfy (a window of MAC reduction, a latency limit), with
 * the words an error names it by when nothing satisfies it.
 */
public record Constraint(String description, Predicate<int[]> test) {
    public static final Constraint NONE = new Constraint("no constraint", tokens -> true);

    public boolean allows(int[] tokens) {
        return test.test(tokens);
    }
}
