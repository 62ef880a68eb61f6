package org.sparkslim.jobs.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.IdxReader;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.jobs.tables.ImageTable;
import picocli.CommandLine.Option;

/**
 * The Fashion-MNIST files a benchmark reads ({@code --data-dir}, mixed into its command) and the
 * splits of BENCHMARK.md taken from them: val is the last 5,000 training images.
 */
final class FashionMnistData {
    private static final int VAL_IMAGES = 5000;

    @Option(names = "--data-dir", description = "Fashion-MNIST idx directory (default: ${DEFAULT-VALUE})")
    Path dir = Path.of("/usr/share/datasets/fashion-mnist");

    LabeledImages train() {
        return IdxReader.readLabeled(dir.resolve("train-images-idx3-ubyte.gz"), dir.resolve("train-labels-idx1-ubyte.gz"),
                10);
    }

    /** The first {@code limit} test images. */
    LabeledImages test(int limit) {
        LabeledImages test = IdxReader.readLabeled(dir.resolve("t10k-images-idx3-ubyte.gz"),
                dir.resolve("t10k-labels-idx1-ubyte.gz"), 10);
        return test.slice(0, Math.min(limit, test.size()));
    }

    /** The first {@code limit} images of the val split. */
    static LabeledImages val(LabeledImages train, int limit) {
        int start = train.size() - VAL_IMAGES;
        return train.slice(start, start + Math.min(limit, VAL_IMAGES));
    }

    static BatchAssembler assembler(LabeledImages images) {
        return new BatchAssembler(images.shape(), 10, Normalization.FASHION_MNIST);
    }

    /** {@code images} as image rows (ids from 0), two partitions per core, cached. */
    static Dataset<Row> table(SparkSession spark, LabeledImages images) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            rows.add(RowFactory.create((long) i, images.labels()[i], images.image(i)));
        }
        Dataset<Row> table = spark.createDataFrame(rows, ImageTable.SCHEMA)
                .repartition(spark.sparkContext().defaultParallelism() * 2).persist(StorageLevel.MEMORY_ONLY());
        table.count();
        return table;
    }
}
