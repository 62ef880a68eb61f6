package org.sparkslim.compression.distill;

import java.util.Iterator;
import org.nd4j.linalg.dataset.DataSet;
import org.sparkslim.compression.train.BatchSource;

/**
 * Training batches for a student: each batch of the wrapped source, with the teacher's logits for
 * the same (augmented) images appended to the one-hot labels, as {@link SoftLabelLoss} reads them.
 * The teacher runs as the batches are drawn, so under the trainer's prefetching it works ahead of
 * the student.
 */
public final class DistillingBatchSource implements BatchSource {
    private final BatchSource source;
    private final TeacherLogits teacher;

    public DistillingBatchSource(BatchSource source, TeacherLogits teacher) {
        this.source = source;
        this.teacher = teacher;
    }

    @Override
    public long size() {
        return source.size();
    }

    @Override
    public Iterator<DataSet> epoch(int epoch) {
        Iterator<DataSet> batches = source.epoch(epoch);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return batches.hasNext();
            }

            @Override
            public DataSet next() {
                DataSet batch = batches.next();
                return new DataSet(batch.getFeatures(),
                        SoftLabelLoss.labelsWithLogits(batch.getLabels(), teacher.of(batch.getFeatures())));
            }
        };
    }
}
