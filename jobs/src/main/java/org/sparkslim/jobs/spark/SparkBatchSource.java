package org.sparkslim.jobs.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.nd4j.linalg.dataset.DataSet;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.train.BatchSource;
import org.sparkslim.jobs.tables.ImageTable;

/**
 * Batches streamed from a Parquet-backed DataFrame into the driver, one partition at a time
 * ({@code toLocalIterator}), so the driver never holds more than a partition of the data. Each epoch
 * is shuffled by Spark with a seed derived from the run's seed and the epoch number.
 */
public final class SparkBatchSource implements BatchSource {
    private final Dataset<Row> rows;
    private final long size;
    private final BatchAssembler assembler;
    private final int batchSize;
    private final Augmentation augmentation;
    private final boolean shuffle;
    private final long seed;
    private final String description;

    public SparkBatchSource(Dataset<Row> rows, BatchAssembler assembler, int batchSize, Augmentation augmentation,
                            boolean shuffle, long seed, String description) {
        this.rows = rows.select(ImageTable.LABEL, ImageTable.IMAGE);
        this.size = rows.count();
        this.assembler = assembler;
        this.batchSize = batchSize;
        this.augmentation = augmentation;
        this.shuffle = shuffle;
        this.seed = seed;
        this.description = description;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public Iterator<DataSet> epoch(int epoch) {
        long epochSeed = seed * 1_000_003L + epoch;
        Dataset<Row> ordered = shuffle ? rows.orderBy(functions.rand(epochSeed)) : rows;
        rows.sparkSession().sparkContext().setJobDescription(description + (shuffle ? ", epoch " + epoch : ""));
        Iterator<Row> it = ordered.toLocalIterator();
        Random random = new Random(epochSeed);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public DataSet next() {
                if (!it.hasNext()) {
                    throw new NoSuchElementException();
                }
                List<byte[]> images = new ArrayList<>(batchSize);
                int[] labels = new int[batchSize];
                int n = 0;
                while (n < batchSize && it.hasNext()) {
                    Row row = it.next();
                    labels[n++] = row.getInt(0);
                    images.add((byte[]) row.get(1));
                }
                int[] used = n == batchSize ? labels : java.util.Arrays.copyOf(labels, n);
                return assembler.dataSet(images, used, augmentation, random);
            }
        };
    }
}
