package org.sparkslim.jobs.spark;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The one SparkSession of a run: the config's master unless spark-submit chose one. */
public final class SparkSessions {
    /** The JVM options every executor needs: Spark on Java 17, oneDNN helpers on. */
    public static final String EXECUTOR_JAVA_OPTIONS = String.join(" ",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
            "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
            "--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "-Djdk.reflect.useDirectMethodHandle=false",
            "-Dorg.eclipse.deeplearning4j.helpers.disable=false");

    private SparkSessions() {
    }

    public static SparkSession create(Config config) {
        SparkConf conf = new SparkConf(true);
        if (!conf.contains("spark.master")) {
            conf.setMaster(config.getString("spark.master"));
        }
        if (!conf.contains("spark.app.name")) {
            conf.setAppName(config.getString("spark.app-name"));
        }
        conf.setIfMissing("spark.executor.extraJavaOptions", EXECUTOR_JAVA_OPTIONS);
        conf.setIfMissing("spark.sql.shuffle.partitions", "8");
        conf.setIfMissing("spark.sql.parquet.compression.codec", "snappy");
        for (Map.Entry<String, ConfigValue> e : config.getConfig("spark.conf").entrySet()) {
            conf.set(e.getKey().replace("\"", ""), String.valueOf(e.getValue().unwrapped()));
        }
        return SparkSession.builder().config(conf).getOrCreate();
    }
}
