package org.sparkslim.compression.prune;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How much each channel group (or removable residual block) costs in accuracy when pruned alone: per
 * group, measured points of (fraction of its channels removed, relative top-1 drop), in any order;
 * (0, 0) is implied. Drops are measured, not smoothed: a curve may dip.
 */
public final class SensitivityCurves implements Serializable {
    /** One measurement: {@code ratio} of the group removed cost {@code drop} of the unpruned top-1 (0.02 = 2%). */
    public record Point(double ratio, double drop) implements Serializable {
    }

    private final Map<String, List<Point>> curves = new LinkedHashMap<>();

    public SensitivityCurves add(String group, double ratio, double drop) {
        curves.computeIfAbsent(group, g -> new ArrayList<>()).add(new Point(ratio, drop));
        return this;
    }

    public SensitivityCurves add(String group, List<Point> points) {
        curves.computeIfAbsent(group, g -> new ArrayList<>()).addAll(points);
        return this;
    }

    public boolean has(String group) {
        return curves.containsKey(group);
    }

    /** The group's points, or null when it was not measured. */
    public List<Point> curve(String group) {
        List<Point> points = curves.get(group);
        return points == null ? null : Collections.unmodifiableList(points);
    }

    public boolean isEmpty() {
        return curves.isEmpty();
    }

    /** The largest drop measured anywhere. */
    public double maxDrop() {
        return curves.values().stream().flatMap(List::stream).mapToDouble(Point::drop).max().orElse(0);
    }
}
