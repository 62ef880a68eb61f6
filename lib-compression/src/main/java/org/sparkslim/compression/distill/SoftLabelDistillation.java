package org.sparkslim.compression.distill;

import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;

/**
 * Training a student against a teacher's soft labels: the student's output layer gets a
 * {@link SoftLabelLoss} for the duration of training and the batches carry the teacher's logits.
 */
public record SoftLabelDistillation(TeacherLogits teacher, double temperature, double softLabelWeight) {
    public SoftLabelDistillation {
        SoftLabelLoss.checkSettings(temperature, softLabelWeight);
    }

    /** A handle that puts the student's own loss back when closed. */
    public interface Installed extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * A training batch's labels for the student: the one-hot labels with the teacher's logits for the
     * same (augmented) images appended, as {@link SoftLabelLoss} reads them. Given to
     * {@code Trainer.fit}, the teacher runs in the prefetch thread, ahead of the student.
     */
    public MultiDataSet targets(DataSet batch) {
        return new MultiDataSet(batch.getFeatures(),
                SoftLabelLoss.labelsWithLogits(batch.getLabels(), teacher.of(batch.getFeatures())));
    }

    /**
     * Swaps the student's loss for the soft-label loss until the returned handle is closed; restoring
     * it keeps the trained model a plain classifier that saves and loads anywhere.
     */
    public Installed installOn(ComputationGraph student) {
        BaseOutputLayer conf = ClassifierOutput.of(student, "student");
        if (conf.getNOut() != teacher.numClasses()) {
            throw new IllegalArgumentException("the student's output layer '" + conf.getLayerName() + "' has "
                    + conf.getNOut() + " classes, the teacher " + teacher.numClasses());
        }
        return installLoss(student, temperature, softLabelWeight);
    }

    /**
     * Swaps the student's loss for the soft-label loss until the returned handle is closed, for batches
     * whose labels already carry the teacher's logits (offline distillation: logits stored beforehand).
     */
    public static Installed installLoss(ComputationGraph student, double temperature, double softLabelWeight) {
        BaseOutputLayer conf = ClassifierOutput.of(student, "student");
        ILossFunction own = conf.getLossFn();
        conf.setLossFn(new SoftLabelLoss(temperature, softLabelWeight));
        return () -> conf.setLossFn(own);
    }
}
