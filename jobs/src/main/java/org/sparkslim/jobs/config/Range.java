package org.sparkslim.jobs.config;

/** The numbers a setting accepts: bounds, each open or closed, either one absent. */
public record Range(double low, boolean lowOpen, double high, boolean highOpen) {
    public static final Range ANY = new Range(Double.NEGATIVE_INFINITY, false, Double.POSITIVE_INFINITY, false);
    /** 0 or more: a count where 0 means "off" or "all". */
    public static final Range NON_NEGATIVE = atLeast(0);
    public static final Range POSITIVE = new Range(0, true, Double.POSITIVE_INFINITY, false);
    /** A fraction strictly between 0 and 1 (a ratio of channels or MACs). */
    public static final Range OPEN_FRACTION = new Range(0, true, 1, true);
    public static final Range PROBABILITY = new Range(0, false, 1, false);

    public static Range atLeast(double low) {
        return new Range(low, false, Double.POSITIVE_INFINITY, false);
    }

    public static Range between(double low, double high) {
        return new Range(low, false, high, false);
    }

    /** Null when {@code n} lies in the range, else what is wrong. */
    String fault(double n) {
        boolean aboveLow = lowOpen ? n > low : n >= low;
        boolean belowHigh = highOpen ? n < high : n <= high;
        if (aboveLow && belowHigh) {
            return null;
        }
        if (high == Double.POSITIVE_INFINITY) {
            return "must be " + (lowOpen ? "greater than " : "at least ") + fmt(low) + ", got " + fmt(n);
        }
        return "must be in " + (lowOpen ? "(" : "[") + fmt(low) + ", " + fmt(high) + (highOpen ? ")" : "]")
                + ", got " + fmt(n);
    }

    private static String fmt(double n) {
        return n == Math.rint(n) && Math.abs(n) < 1e15 ? String.valueOf((long) n) : String.valueOf(n);
    }
}
