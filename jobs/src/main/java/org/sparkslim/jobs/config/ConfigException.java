package org.sparkslim.jobs.config;

/** A config that cannot be used; the message names the file, the key and the fault. */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
