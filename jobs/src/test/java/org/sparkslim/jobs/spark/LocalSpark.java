package org.sparkslim.jobs.spark;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Spark session in this JVM for one test class, without its web UI: started before the class's first
 * test and stopped after its last. Register it as a static field with {@code @RegisterExtension}.
 */
public final class LocalSpark implements BeforeAllCallback, AfterAllCallback {
    private final String master;
    private final String appName;
    private SparkSession session;

    /** A session of {@code master} (e.g. {@code local[2]}) named {@code appName}. */
    public LocalSpark(String master, String appName) {
        this.master = master;
        this.appName = appName;
    }

    public SparkSession session() {
        return session;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        session = SparkSession.builder().master(master).appName(appName).config("spark.ui.enabled", "false")
                .getOrCreate();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        session.stop();
    }
}
