package org.sparkslim.jobs.spark;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.distill.SoftLabelLoss;
import org.sparkslim.compression.train.BatchSource;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.SoftLabelsTable;

/**
 * Batches streamed from a Parquet-backed DataFrame into the driver, one partition at a time
 * ({@code toLocalIterator}), so the driver never holds more than a partition of the data. Each epoch
 * is shuffled by Spark with a seed derived from the run's seed and the epoch number.
 */
public final class SparkBatchSource implements BatchSource {
    private final Dataset<Row> rows;
    private final long size;
    private final boolean withLogits;
    private final BatchAssembler assembler;
    private final int batchSize;
    private final Augmentation augmentation;
    private final boolean shuffle;
    private final long seed;
    private final String description;

    public SparkBatchSource(Dataset<Row> rows, BatchAssembler assembler, int batchSize, Augmentation augmentation,
                            boolean shuffle, long seed, String description) {
        this(rows.select(ImageTable.ID, ImageTable.LABEL, ImageTable.IMAGE), rows.count(), false, assembler, batchSize,
                augmentation, shuffle, seed, description);
    }

    private SparkBatchSource(Dataset<Row> rows, long size, boolean withLogits, BatchAssembler assembler, int batchSize,
                             Augmentation augmentation, boolean shuffle, long seed, String description) {
        this.rows = rows;
        this.size = size;
        this.withLogits = withLogits;
        this.assembler = assembler;
        this.batchSize = batchSize;
        this.augmentation = augmentation;
        this.shuffle = shuffle;
        this.seed = seed;
        this.description = description;
    }

    /**
     * The same batches (same order) whose labels carry each image's stored teacher logits after its
     * one-hot label, as {@link SoftLabelLoss} reads them: offline distillation. The logits table is
     * broadcast (4 bytes per class and image), so the join keeps the rows' partitions and their order,
     * and the seeded shuffle puts the same images in the same batches as without it.
     *
     * @param softLabels a {@link SoftLabelsTable} of these images
     * @param where      the table's location, for the message when images lack logits
     * @throws IllegalArgumentException when an image has no logits in the table
     */
    public SparkBatchSource withTeacherLogits(Dataset<Row> softLabels, String where) {
        Dataset<Row> joined = rows.join(functions.broadcast(softLabels.select(ImageTable.ID, SoftLabelsTable.LOGITS)),
                ImageTable.ID);
        long matched = joined.count();
        if (matched != size) {
            throw new IllegalArgumentException(where + " has teacher logits for " + matched + " of the " + size
                    + " training images; make it from this run's prepared data");
        }
        return new SparkBatchSource(joined.select(ImageTable.ID, ImageTable.LABEL, ImageTable.IMAGE,
                SoftLabelsTable.LOGITS), size, true, assembler, batchSize, augmentation, shuffle, seed, description);
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
                float[][] logits = withLogits ? new float[batchSize][] : null;
                int n = 0;
                while (n < batchSize && it.hasNext()) {
                    Row row = it.next();
                    if (withLogits) {
                        List<Float> values = row.getList(3);
                        logits[n] = new float[values.size()];
                        for (int i = 0; i < logits[n].length; i++) {
                            logits[n][i] = values.get(i);
                        }
                    }
                    labels[n++] = row.getInt(1);
                    images.add((byte[]) row.get(2));
                }
                DataSet batch = assembler.dataSet(images, n == batchSize ? labels : Arrays.copyOf(labels, n),
                        augmentation, random);
                if (withLogits) {
                    batch.setLabels(SoftLabelLoss.labelsWithLogits(batch.getLabels(),
                            Nd4j.create(n == batchSize ? logits : Arrays.copyOf(logits, n))));
                }
                return batch;
            }
        };
    }
}
