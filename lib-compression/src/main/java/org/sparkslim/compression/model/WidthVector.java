package org.sparkslim.compression.model;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The free channel counts of one network, by name. A slot is one set of channels that can be
 * chosen independently: layers whose outputs are added by a residual connection share a slot, and
 * a depthwise convolution has none (it follows its input).
 */
public record WidthVector(List<String> names, int[] widths) implements Serializable {
    public WidthVector {
        names = List.copyOf(names);
        widths = widths.clone();
        if (names.size() != widths.length) {
            throw new IllegalArgumentException(names.size() + " width names but " + widths.length + " widths");
        }
        for (int i = 0; i < widths.length; i++) {
            if (widths[i] < 1) {
                throw new IllegalArgumentException("width of '" + names.get(i) + "' must be at least 1, got " + widths[i]);
            }
        }
    }

    public static WidthVector of(Map<String, Integer> widths) {
        return new WidthVector(new ArrayList<>(widths.keySet()), widths.values().stream().mapToInt(Integer::intValue).toArray());
    }

    public int size() {
        return widths.length;
    }

    public int get(String name) {
        int i = names.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no width slot '" + name + "'; slots are " + names);
        }
        return widths[i];
    }

    @Override
    public int[] widths() {
        return widths.clone();
    }

    /** Every width times {@code multiplier}, rounded, at least 1. */
    public WidthVector scaled(double multiplier) {
        if (!(multiplier > 0)) {
            throw new IllegalArgumentException("width multiplier must be positive, got " + multiplier);
        }
        int[] scaled = new int[widths.length];
        for (int i = 0; i < widths.length; i++) {
            scaled[i] = Math.max(1, (int) Math.round(widths[i] * multiplier));
        }
        return new WidthVector(names, scaled);
    }

    /** The same slots with other widths, in slot order. */
    public WidthVector withWidths(int[] newWidths) {
        return new WidthVector(names, newWidths);
    }

    public Map<String, Integer> asMap() {
        Map<String, Integer> map = new LinkedHashMap<>();
        for (int i = 0; i < widths.length; i++) {
            map.put(names.get(i), widths[i]);
        }
        return map;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WidthVector w && names.equals(w.names) && Arrays.equals(widths, w.widths);
    }

    @Override
    public int hashCode() {
        return 31 * names.hashCode() + Arrays.hashCode(widths);
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
