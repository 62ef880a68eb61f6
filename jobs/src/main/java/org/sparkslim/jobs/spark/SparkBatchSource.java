package org.sparkslim.jobs.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
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
import scala.Tuple2;

/**
 * Batches streamed from a Parquet-backed DataFrame into the driver, one partition at a time
 * ({@code toLocalIterator}), so the driver never holds more than a partition of the data, or made in
 * the executors for training there. Each epoch is shuffled by Spark with a seed derived from the
 * run's seed and the epoch number.
 */
public final class SparkBatchSource implements BatchSource {
    private final Dataset<Row> rows;
    private final long size;
    private final boolean withLogits;
    /** The stored feature targets the labels carry, by position in the table, in order; null for none. */
    private final int[] targets;
    private final BatchAssembler assembler;
    private final int batchSize;
    private final Augmentation augmentation;
    private final boolean shuffle;
    private final long seed;
    private final String description;

    public SparkBatchSource(Dataset<Row> rows, BatchAssembler assembler, int batchSize, Augmentation augmentation,
                            boolean shuffle, long seed, String description) {
        this(rows.select(ImageTable.ID, ImageTable.LABEL, ImageTable.IMAGE), rows.count(), false, null, assembler,
                batchSize, augmentation, shuffle, seed, description);
    }

    private SparkBatchSource(Dataset<Row> rows, long size, boolean withLogits, int[] targets,
                             BatchAssembler assembler, int batchSize, Augmentation augmentation, boolean shuffle,
                             long seed, String description) {
        this.rows = rows;
        this.size = size;
        this.withLogits = withLogits;
        this.targets = targets;
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
        return joined(functions.broadcast(softLabels.select(ImageTable.ID, SoftLabelsTable.LOGITS)), null, where);
    }

    /**
     * {@link #withTeacherLogits}, and after the logits each image's stored feature targets at
     * {@code positions} of the table's features, concatenated in that order, as
     * {@code FeatureLosses.storedTargets} splits them. The targets are too large to broadcast: the join
     * shuffles, so the batches hold other images than without it (the same ones for the same seed).
     */
    public SparkBatchSource withTeacherTargets(Dataset<Row> softLabels, int[] positions, String where) {
        return joined(softLabels.select(ImageTable.ID, SoftLabelsTable.LOGITS, SoftLabelsTable.FEATURES),
                positions.clone(), where);
    }

    private SparkBatchSource joined(Dataset<Row> softLabels, int[] positions, String where) {
        boolean features = positions != null;
        Dataset<Row> joined = rows.join(softLabels, ImageTable.ID);
        long matched = joined.count();
        if (matched != size) {
            throw new IllegalArgumentException(where + " has teacher logits for " + matched + " of the " + size
                    + " training images; make it from this run's prepared data");
        }
        Dataset<Row> columns = features
                ? joined.select(ImageTable.ID, ImageTable.LABEL, ImageTable.IMAGE, SoftLabelsTable.LOGITS,
                SoftLabelsTable.FEATURES)
                : joined.select(ImageTable.ID, ImageTable.LABEL, ImageTable.IMAGE, SoftLabelsTable.LOGITS);
        return new SparkBatchSource(features ? columns.sortWithinPartitions(ImageTable.ID) : columns, size, true,
                positions, assembler, batchSize, augmentation, shuffle, seed, description);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public Iterator<DataSet> epoch(int epoch) {
        long epochSeed = seed * 1_000_003L + epoch;
        rows.sparkSession().sparkContext().setJobDescription(description + (shuffle ? ", epoch " + epoch : ""));
        return batching().batches(ordered(epochSeed).toLocalIterator(), new Random(epochSeed));
    }

    /**
     * The same epoch's images, shuffled the same way, made into batches in the executors instead of the
     * driver: partition {@code p} holds images {@code [p * perPartition, (p + 1) * perPartition)} of the
     * shuffled order, in that order, augmented with a random of its own seeded by the epoch and {@code p}.
     * For training in the executors, a partition per round.
     */
    public JavaRDD<DataSet> distributedEpoch(int epoch, long perPartition) {
        long epochSeed = seed * 1_000_003L + epoch;
        Batching batching = batching();
        int partitions = (int) Math.max(1, (size + perPartition - 1) / perPartition);
        return ordered(epochSeed).javaRDD().zipWithIndex()
                .mapToPair(rowAndIndex -> new Tuple2<>(rowAndIndex._2(), rowAndIndex._1()))
                .repartitionAndSortWithinPartitions(new ConsecutiveRanges(perPartition, partitions))
                .values()
                .mapPartitionsWithIndex((index, rows) -> batching.batches(rows, new Random(epochSeed * 31 + index)), true);
    }

    /** Puts position {@code i} of a sequence in partition {@code i / perPartition}. */
    private static final class ConsecutiveRanges extends Partitioner {
        private final long perPartition;
        private final int partitions;

        ConsecutiveRanges(long perPartition, int partitions) {
            this.perPartition = perPartition;
            this.partitions = partitions;
        }

        @Override
        public int numPartitions() {
            return partitions;
        }

        @Override
        public int getPartition(Object position) {
            return (int) Math.min(partitions - 1, (Long) position / perPartition);
        }
    }

    private Dataset<Row> ordered(long epochSeed) {
        return shuffle ? rows.orderBy(functions.rand(epochSeed)) : rows;
    }

    private Batching batching() {
        return new Batching(assembler, batchSize, augmentation, withLogits, targets);
    }

    /** How rows become batches, wherever that happens: a value shipped to the executors. */
    private record Batching(BatchAssembler assembler, int batchSize, Augmentation augmentation, boolean withLogits,
                            int[] targets) implements Serializable {
        Iterator<DataSet> batches(Iterator<Row> it, Random random) {
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
                            logits[n] = teacherAnswers(row);
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

        /** A joined row's stored logits, followed by the feature targets asked for. */
        private float[] teacherAnswers(Row row) {
            float[] logits = SoftLabelsTable.floats(row.getList(3));
            if (targets == null) {
                return logits;
            }
            List<byte[]> stored = row.getList(4);
            List<float[]> parts = new ArrayList<>(targets.length);
            int length = logits.length;
            for (int position : targets) {
                float[] values = SoftLabelsTable.floats(stored.get(position));
                parts.add(values);
                length += values.length;
            }
            float[] all = Arrays.copyOf(logits, length);
            int at = logits.length;
            for (float[] p : parts) {
                System.arraycopy(p, 0, all, at, p.length);
                at += p.length;
            }
            return all;
        }
    }
}
