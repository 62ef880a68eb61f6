package org.sparkslim.compression.train;

import java.util.Iterator;
import java.util.List;
import org.nd4j.linalg.dataset.DataSet;

/** Fixed batches as a {@link BatchSource}: every epoch yields the same ones, in order. */
public final class TestBatches {
    private TestBatches() {
    }

    public static BatchSource of(List<DataSet> batches) {
        long size = batches.stream().mapToLong(b -> b.getFeatures().size(0)).sum();
        return new BatchSource() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public Iterator<DataSet> epoch(int epoch) {
                return batches.iterator();
            }
        };
    }
}
