package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** What every integration test needs: the real Fashion-MNIST files and a Spark local[2] session. */
final class RealData {
    static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

    private RealData() {
    }

    /** Fails (does not skip) without the data: a green run must have used it. */
    static void requireFashionMnist() {
        assertTrue(Files.exists(FASHION.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST is not installed: apt-get install -y dataset-fashion-mnist");
    }

    static SparkSession localSpark(String name) {
        return SparkSession.builder().master("local[2]").appName(name).config("spark.ui.enabled", "false").getOrCreate();
    }
}
