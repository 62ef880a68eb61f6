package org.sparkslim.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException.Parse;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Loads a run's config: the defaults ({@code reference.conf} of this module), the user's file,
 * then {@code key=value} overrides, validated against the defaults and resolved.
 */
public final class RunConfig {
    private static final String REFERENCE = "reference.conf";

    private RunConfig() {
    }

    public static Config reference() {
        return ConfigFactory.parseResources(RunConfig.class.getClassLoader(), REFERENCE,
                ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
    }

    /**
     * @param file      the user's HOCON file, or null for the defaults alone
     * @param overrides {@code key=value} strings; the value is HOCON ({@code 3}, {@code [a, b]}, {@code "x y"})
     */
    public static Config load(Path file, List<String> overrides) {
        return load(file == null ? List.of() : List.of(file), overrides);
    }

    /**
     * The defaults, then each file in turn (a later file overrides an earlier one: a run's config, then
     * the overrides of a cluster), then the {@code key=value} overrides. A section that names a stage
     * with {@code type} (a repeated stage, e.g. {@code finetune-2 { type = finetune }}) takes that
     * stage's section of the defaults as its own defaults.
     */
    public static Config load(List<Path> files, List<String> overrides) {
        Config user = ConfigFactory.empty();
        for (Path file : files) {
            user = parseFile(file).withFallback(user);
        }
        for (String override : overrides) {
            user = parseOverride(override).withFallback(user);
        }
        try {
            // substitutions (finetune-2 = ${finetune} { ... }) resolve against the user's values and the defaults
            Config resolved = user.resolveWith(user.withFallback(reference()));
            Config reference = withStageSections(reference(), resolved);
            ConfigValidator.validate(resolved, reference);
            return resolved.withFallback(reference).resolve(ConfigResolveOptions.defaults());
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException("cannot resolve config: " + e.getMessage(), e);
        }
    }

    /** Where a value was set, for messages: "run.conf: 12", "--set train.epochs"; empty for a default. */
    static String origin(ConfigValue value) {
        String origin = value.origin().description();
        if (origin == null || origin.isEmpty() || origin.contains("reference.conf")) {
            return "";
        }
        return " (" + (origin.startsWith("--set ") ? origin.replaceFirst(": 1$", "") : origin) + ")";
    }

    private static Config parseFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ConfigException("config file not found: " + file);
        }
        try {
            // absolute, so that a file named without a directory still finds the files it includes beside it
            // (HOCON would look for them on the classpath, and skip them silently when not found there)
            return ConfigFactory.parseFile(file.toAbsolutePath().toFile(),
                    ConfigParseOptions.defaults().setAllowMissing(false));
        } catch (Parse e) {
            throw new ConfigException("cannot parse config file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The defaults with a section for each of the user's repeated stages: a top-level section with a
     * {@code type} that names a section of the defaults gets that section's defaults, and the
     * {@code type} key itself.
     */
    static Config withStageSections(Config reference, Config user) {
        Config extended = reference;
        for (String section : user.root().keySet()) {
            String typeKey = ConfigUtil.joinPath(section, "type");
            if (reference.hasPath(section) || !user.hasPath(typeKey)
                    || user.getValue(typeKey).valueType() != ConfigValueType.STRING) {
                continue;
            }
            String type = user.getString(typeKey);
            Config defaults = reference.hasPath(type) && reference.getValue(type).valueType() == ConfigValueType.OBJECT
                    ? reference.getConfig(type) : ConfigFactory.empty();
            extended = extended.withFallback(defaults.withValue("type", ConfigValueFactory.fromAnyRef(type,
                    "the stage named by " + typeKey)).atKey(section));
        }
        return extended;
    }

    static Config parseOverride(String override) {
        int eq = override.indexOf('=');
        if (eq <= 0) {
            throw new ConfigException("override '" + override + "' is not of the form key=value");
        }
        String key = override.substring(0, eq).trim();
        String value = override.substring(eq + 1).trim();
        try {
            return ConfigFactory.parseString(key + " = " + (value.isEmpty() ? "\"\"" : value),
                    ConfigParseOptions.defaults().setOriginDescription("--set " + key));
        } catch (com.typesafe.config.ConfigException e) {
            // a value HOCON cannot read unquoted (a URI with ':', a glob): take it as a string
            return ConfigFactory.empty().withValue(key, ConfigValueFactory.fromAnyRef(value, "--set " + key));
        }
    }

    /** The config as HOCON text, with comments naming where each value came from. */
    public static String render(Config config) {
        return config.root().render(ConfigRenderOptions.defaults().setOriginComments(false).setJson(false));
    }

    /** Canonical JSON of one section, for signatures: key order and formatting do not matter. */
    public static String canonical(Config config, String path) {
        if (!config.hasPathOrNull(path) || config.getIsNull(path)) {
            return "null";
        }
        return config.getValue(path).render(ConfigRenderOptions.concise().setJson(true));
    }
}
