package org.sparkslim.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException.Parse;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValueFactory;
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
        Config user = ConfigFactory.empty();
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new ConfigException("config file not found: " + file);
            }
            try {
                user = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (Parse e) {
                throw new ConfigException("cannot parse config file " + file + ": " + e.getMessage(), e);
            }
        }
        for (String override : overrides) {
            user = parseOverride(override).withFallback(user);
        }
        Config reference = reference();
        ConfigValidator.validate(user, reference);
        try {
            return user.withFallback(reference).resolve(ConfigResolveOptions.defaults());
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException("cannot resolve config: " + e.getMessage(), e);
        }
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
        if (!config.hasPathOrNull(path)) {
            return "null";
        }
        return config.getValue(path).render(ConfigRenderOptions.concise().setJson(true));
    }
}
