package org.sparkslim.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.sparkslim.compression.util.Suggestions;

/**
 * Checks a user's config against the reference: every key must exist there (or sit under one of
 * the free-form width sections), every value must have the reference's type, and Spark settings and
 * the master must be ones a config may pass on ({@link AllowedSparkSettings}). All faults are
 * reported at once, each with its key, where it was set and a suggestion.
 */
public final class ConfigValidator {
    /** Spark settings, each checked against {@link AllowedSparkSettings}. */
    static final String SPARK_CONF = "spark.conf";
    /** Sections whose keys are the user's own (width slots). */
    static final Set<String> FREE_FORM = Set.of("model.widths", "distill.student-model.widths");
    /** Fractions whose default is whole ("1.0", which HOCON reads as the integer 1); other integer defaults are counts. */
    static final Set<String> WHOLE_DEFAULT_FRACTIONS = Set.of("model.width-multiplier", "distill.temperature",
            "distill.hint-weight", "train.bn-scale-l1", "distill.student-model.width-multiplier",
            "prune-search.latency-weight");

    /** Numbers that may also be lists of numbers (per channel). */
    static final Set<String> NUMBER_OR_LIST = Set.of("data.normalization.mean", "data.normalization.std");

    private ConfigValidator() {
    }

    public static void validate(Config user, Config reference) {
        List<String> faults = new ArrayList<>();
        Set<String> known = new TreeSet<>();
        for (Map.Entry<String, ConfigValue> e : reference.entrySet()) {
            known.add(e.getKey());
        }
        for (Map.Entry<String, ConfigValue> e : user.entrySet()) {
            String key = e.getKey();
            if (key.startsWith(SPARK_CONF + ".")) {
                String fault = AllowedSparkSettings.settingFault(key.substring(SPARK_CONF.length() + 1).replace("\"", ""));
                if (fault != null) {
                    faults.add("key '" + key + "'" + RunConfig.origin(e.getValue()) + ": " + fault);
                }
                continue;
            }
            if (isFreeForm(key)) {
                continue;
            }
            ConfigValue value = e.getValue();
            if (!reference.hasPathOrNull(key)) {
                faults.add("unknown key '" + key + "'" + RunConfig.origin(value) + Suggestions.didYouMean(key, known));
                continue;
            }
            if (reference.getIsNull(key)) {
                continue; // a null default ("not set") takes any value; the stage that reads it checks it
            }
            ConfigValue expected = reference.getValue(key);
            String typeFault = key.equals("spark.master") ? AllowedSparkSettings.masterFault(value.unwrapped().toString())
                    : typeFault(key, expected, value);
            if (typeFault != null) {
                faults.add("key '" + key + "'" + RunConfig.origin(value) + ": " + typeFault);
            }
        }
        if (!faults.isEmpty()) {
            throw new ConfigException("invalid config:\n  " + String.join("\n  ", faults));
        }
    }

    private static boolean isFreeForm(String key) {
        for (String section : FREE_FORM) {
            if (key.equals(section) || key.startsWith(section + ".")) {
                return true;
            }
        }
        return false;
    }

    /** Null when {@code value} may stand where the reference has {@code expected}. */
    private static String typeFault(String key, ConfigValue expected, ConfigValue value) {
        ConfigValueType want = expected.valueType();
        ConfigValueType got = value.valueType();
        if (want == ConfigValueType.NUMBER && got == ConfigValueType.LIST && NUMBER_OR_LIST.contains(key)) {
            return null;
        }
        if (want == ConfigValueType.NUMBER) {
            Double number = number(value);
            if (number == null) {
                return "expected a number, got " + describe(value);
            }
            // a count (an integer default) would be truncated by getInt
            boolean count = (expected.unwrapped() instanceof Integer || expected.unwrapped() instanceof Long)
                    && !WHOLE_DEFAULT_FRACTIONS.contains(key);
            return count && number != Math.rint(number) ? "expected a whole number, got " + describe(value) : null;
        }
        if (want == got) {
            return null;
        }
        Object raw = value.unwrapped();
        switch (want) {
            case BOOLEAN:
                if (got == ConfigValueType.STRING && Set.of("true", "false", "yes", "no", "on", "off").contains(raw)) {
                    return null;
                }
                return "expected true or false, got " + describe(value);
            case STRING:
                // HOCON reads unquoted words, numbers and booleans alike as strings where a string is wanted.
                return got == ConfigValueType.NUMBER || got == ConfigValueType.BOOLEAN ? null
                        : "expected a string, got " + describe(value);
            case LIST:
                return "expected a list like [a, b], got " + describe(value);
            default:
                return "expected " + want.name().toLowerCase() + ", got " + describe(value);
        }
    }

    /** The value as a number (HOCON keeps {@code --set k=2.5} and quoted numbers as strings), or null. */
    private static Double number(ConfigValue value) {
        Object raw = value.unwrapped();
        if (raw instanceof Number n) {
            return n.doubleValue();
        }
        if (raw instanceof String s) {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    private static String describe(ConfigValue value) {
        return value.valueType().name().toLowerCase() + " " + value.render();
    }
}
