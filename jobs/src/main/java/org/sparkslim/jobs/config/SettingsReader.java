package org.sparkslim.jobs.config;

import com.typesafe.config.Config;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.util.Suggestions;

/**
 * Reads the typed settings of one stage from a run's config, checking each value as it is read
 * (type, range, allowed words). It collects faults instead of stopping at the first, so that a
 * config with many mistakes is reported whole, and it records every key it read with its value:
 * that record, not a hand-written list, is what the stage's signature covers.
 *
 * <p>A stage that appears under its own name in {@code pipeline.stages} reads its section as
 * written ({@code finetune.epochs}); a repeated stage ({@code finetune-2 { type = finetune }})
 * reads the same keys from its own section ({@code finetune-2.epochs}).
 */
public final class SettingsReader {
    private final Config config;
    private final String section;
    private final String ownSection;
    private final SortedMap<String, String> read = new TreeMap<>();
    private final List<String> faults = new ArrayList<>();

    /**
     * @param section    the section the stage's code names ({@code finetune})
     * @param ownSection where this stage's values are ({@code finetune-2}), or the same as {@code section}
     */
    public SettingsReader(Config config, String section, String ownSection) {
        this.config = config;
        this.section = section;
        this.ownSection = ownSection;
    }

    /** The name of the stage whose settings these are (its section of its own, when it has one). */
    public String stageName() {
        return ownSection;
    }

    /** The key as it stands in this run's config: keys of the stage's section move to its own section. */
    public String key(String key) {
        if (!section.isEmpty() && !section.equals(ownSection) && key.startsWith(section + ".")) {
            return ownSection + key.substring(section.length());
        }
        return key;
    }

    /** Every key read so far, with its value as canonical JSON. */
    public SortedMap<String, String> keysRead() {
        return Collections.unmodifiableSortedMap(read);
    }

    public List<String> faults() {
        return List.copyOf(faults);
    }

    /** Records a fault of a value already read. */
    public void fault(String key, String message) {
        String real = key(key);
        String where = "";
        if (config.hasPathOrNull(real) && !config.getIsNull(real)) {
            where = RunConfig.origin(config.getValue(real));
        }
        faults.add("key '" + real + "'" + where + ": " + message);
    }

    private void record(String key) {
        String real = key(key);
        read.put(real, RunConfig.canonical(config, real));
    }

    /** Reads a value with typesafe's getter; a missing key or a value of another type is a fault. */
    private <T> T get(String key, Function<String, T> getter, T onFault) {
        String real = key(key);
        record(key);
        try {
            return getter.apply(real);
        } catch (com.typesafe.config.ConfigException e) {
            fault(key, e.getMessage().replaceFirst("^.*?: ", ""));
            return onFault;
        }
    }

    public String string(String key) {
        return get(key, config::getString, "");
    }

    /** A string that must not be blank. */
    public String nonEmpty(String key, String why) {
        String s = string(key);
        if (s.isBlank()) {
            fault(key, "is empty; " + why);
        }
        return s;
    }

    /** One of {@code allowed}; anything else is a fault with the closest word. */
    public String choice(String key, Collection<String> allowed) {
        String s = string(key);
        if (!allowed.contains(s)) {
            fault(key, "'" + s + "' is not one of " + String.join(", ", allowed) + Suggestions.didYouMean(s, allowed));
            return allowed.iterator().next();
        }
        return s;
    }

    /**
     * A word turned into a value by {@code parser}, whose IllegalArgumentException becomes a fault
     * (the parsers of lib-compression name the allowed words themselves).
     */
    public <T> T parsed(String key, Function<String, T> parser) {
        String s = string(key);
        try {
            return parser.apply(s);
        } catch (IllegalArgumentException e) {
            fault(key, e.getMessage());
            return null;
        }
    }

    public boolean flag(String key) {
        return get(key, config::getBoolean, false);
    }

    /** A whole number within {@code range}. */
    public int integer(String key, Range range) {
        int before = faults.size();
        double n = number(key, range);
        if (faults.size() == before && n != Math.rint(n)) {
            fault(key, "expected a whole number, got " + n);
        }
        return (int) n;
    }

    /** A whole number of any size (a seed). */
    public long whole(String key) {
        Number n = get(key, config::getNumber, 0);
        if (!(n.doubleValue() == Math.rint(n.doubleValue()))) {
            fault(key, "expected a whole number, got " + n);
        }
        return n.longValue();
    }

    /** A whole number, or null where the config says null. */
    public Long wholeOrNull(String key) {
        record(key);
        return config.getIsNull(key(key)) ? null : whole(key);
    }

    public double number(String key, Range range) {
        int before = faults.size();
        double n = get(key, config::getDouble, Double.NaN);
        String fault = faults.size() > before ? null : range.fault(n);
        if (fault != null) {
            fault(key, fault);
        }
        return n;
    }

    public List<String> strings(String key) {
        return get(key, config::getStringList, List.of());
    }

    /** A list of strings that must not be empty. */
    public List<String> nonEmptyStrings(String key, String why) {
        List<String> list = strings(key);
        if (list.isEmpty()) {
            fault(key, "is empty; " + why);
        }
        return list;
    }

    public List<Double> numbers(String key, Range range) {
        List<Double> list = get(key, config::getDoubleList, List.of());
        for (double n : list) {
            String fault = range.fault(n);
            if (fault != null) {
                fault(key, n + " " + fault);
            }
        }
        return list;
    }

    /** One number, or a list of them, as a list (a per-channel value that may be the same for all). */
    public List<Double> numberOrNumbers(String key, Range range) {
        String real = key(key);
        if (config.hasPath(real) && config.getValue(real).valueType() == com.typesafe.config.ConfigValueType.LIST) {
            return numbers(key, range);
        }
        return List.of(number(key, range));
    }

    public List<Integer> integers(String key, Range range) {
        List<Double> list = numbers(key, range);
        List<Integer> ints = new ArrayList<>();
        for (double n : list) {
            if (n != Math.rint(n)) {
                fault(key, "expected whole numbers, got " + n);
            }
            ints.add((int) n);
        }
        return ints;
    }

    /** A list of objects ({@code [{ student = a, teacher = b }]}), each as it is. */
    public List<? extends Config> objects(String key) {
        return get(key, config::getConfigList, List.of());
    }

    /**
     * Entry {@code index} of the list of objects at {@code key}, built by {@code build} from its keys;
     * null after recording a fault of {@code key} that names the entry (an unknown key, a missing or
     * mistyped one, or a value {@code build} refuses).
     */
    public <T> T entry(String key, int index, Config entry, Set<String> allowed, Supplier<T> build) {
        Set<String> unknown = new TreeSet<>(entry.root().keySet());
        unknown.removeAll(allowed);
        if (!unknown.isEmpty()) {
            fault(key, "[" + index + "]: unknown " + unknown + "; an entry has " + new TreeSet<>(allowed));
            return null;
        }
        try {
            return build.get();
        } catch (com.typesafe.config.ConfigException e) {
            String where = e.origin() == null ? "" : e.origin().description() + ": ";
            String message = e.getMessage();
            fault(key, "[" + index + "]: " + message.substring(message.startsWith(where) ? where.length() : 0));
        } catch (IllegalArgumentException e) {
            fault(key, "[" + index + "]: " + e.getMessage());
        }
        return null;
    }

    /** A free-form section (Spark settings, width slots), as it is. */
    public Config object(String key) {
        return get(key, config::getConfig, com.typesafe.config.ConfigFactory.empty());
    }

    /**
     * Records what the files at {@code location} (the value of {@code key}) are now: each file's path,
     * size and modification time, hashed, so that input changed in place changes the signature of the
     * stage that reads it. A location that does not exist is a fault of {@code key}.
     *
     * @param local whether the location is on this machine's disk (else any Hadoop file system)
     */
    public void fingerprint(String key, String location, boolean local) {
        try {
            Configuration hadoop = new Configuration();
            Path path = new Path(location);
            FileSystem fs = local ? FileSystem.getLocal(hadoop) : path.getFileSystem(hadoop);
            SortedSet<String> files = new TreeSet<>();
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(path, true);
            while (it.hasNext()) {
                LocatedFileStatus f = it.next();
                files.add(f.getPath() + " " + f.getLen() + " " + f.getModificationTime());
            }
            read.put(key(key) + " (files)", ModelFiles.sha256(String.join("\n", files).getBytes(StandardCharsets.UTF_8)));
        } catch (FileNotFoundException e) {
            fault(key, "no such file or directory: " + location);
        } catch (IOException e) {
            fault(key, "cannot list " + location + ": " + e.getMessage());
        }
    }

    /**
     * A value built from values already read; an IllegalArgumentException from {@code build} (a
     * constructor of lib-compression refusing its arguments) becomes a fault of {@code key}.
     */
    public <T> T check(String key, Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            fault(key, e.getMessage());
            return null;
        }
    }
}
