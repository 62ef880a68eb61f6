package org.sparkslim.compression.train;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import org.nd4j.linalg.dataset.DataSet;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;

/** Batches from images held in memory; shuffled per epoch when {@code shuffle} is set. */
public final class InMemoryBatchSource implements BatchSource {
    private final LabeledImages data;
    private final BatchAssembler assembler;
    private final int batchSize;
    private final Augmentation augmentation;
    private final boolean shuffle;
    private final long seed;

    public InMemoryBatchSource(LabeledImages data, BatchAssembler assembler, int batchSize,
                               Augmentation augmentation, boolean shuffle, long seed) {
        this.data = data;
        this.assembler = assembler;
        this.batchSize = batchSize;
        this.augmentation = augmentation;
        this.shuffle = shuffle;
        this.seed = seed;
    }

    /** Unshuffled, unaugmented: for evaluation. */
    public static InMemoryBatchSource forEvaluation(LabeledImages data, BatchAssembler assembler, int batchSize) {
        return new InMemoryBatchSource(data, assembler, batchSize, Augmentation.NONE, false, 0);
    }

    @Override
    public long size() {
        return data.size();
    }

    @Override
    public Iterator<DataSet> epoch(int epoch) {
        Random random = new Random(seed * 1_000_003L + epoch);
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        if (shuffle) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < order.length;
            }

            @Override
            public DataSet next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int end = Math.min(order.length, next + batchSize);
                List<byte[]> images = new ArrayList<>(end - next);
                int[] labels = new int[end - next];
                for (int i = next; i < end; i++) {
                    images.add(data.image(order[i]));
                    labels[i - next] = data.labels()[order[i]];
                }
                next = end;
                return assembler.dataSet(images, labels, augmentation, random);
            }
        };
    }
}
