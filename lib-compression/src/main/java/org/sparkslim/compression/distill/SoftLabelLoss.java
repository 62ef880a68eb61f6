package org.sparkslim.compression.distill;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The loss of a student learning from a teacher's soft labels (Hinton et al., 2015): per example,
 * {@code (1 - w) * CE(y, softmax(z)) + w * T^2 * KL(softmax(t / T) || softmax(z / T))}, where z are the
 * student's logits, t the teacher's, y the one-hot label, T the temperature and w the soft-label
 * weight. The T^2 keeps the soft term's gradient on the scale of the hard one's as T changes.
 *
 * <p>DL4J hands a loss one label array, so each row of the labels holds the one-hot label followed by
 * the teacher's logits ({@link #labelsWithLogits}). The loss works on the output
 * layer's pre-activations, so the layer keeps its softmax for inference.
 */
public final class SoftLabelLoss implements ILossFunction {
    private final double temperature;
    private final double softLabelWeight;

    public SoftLabelLoss(@JsonProperty("temperature") double temperature,
                         @JsonProperty("softLabelWeight") double softLabelWeight) {
        checkSettings(temperature, softLabelWeight);
        this.temperature = temperature;
        this.softLabelWeight = softLabelWeight;
    }

    /** Rejects a temperature that is not positive and a weight outside [0, 1]. */
    static void checkSettings(double temperature, double softLabelWeight) {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("distillation temperature must be positive, got " + temperature);
        }
        if (!(softLabelWeight >= 0 && softLabelWeight <= 1)) {
            throw new IllegalArgumentException("soft-label weight must be in [0, 1], got " + softLabelWeight);
        }
    }

    public double getTemperature() {
        return temperature;
    }

    public double getSoftLabelWeight() {
        return softLabelWeight;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return scoreArray(terms(labels, preOutput, activationFn), mask);
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        return score(terms(labels, preOutput, activationFn), mask, average);
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return gradient(terms(labels, preOutput, activationFn), mask);
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        Terms t = terms(labels, preOutput, activationFn);
        return new Pair<>(score(t, mask, average), gradient(t, mask));
    }

    private INDArray scoreArray(Terms t, INDArray mask) {
        INDArray hard = t.hard.mul(t.logStudent).sum(true, 1).negi();
        INDArray kl = Transforms.exp(t.logTeacherSoft, true).muli(t.logTeacherSoft.sub(t.logStudentSoft)).sum(true, 1);
        return masked(hard.muli(1 - softLabelWeight).addi(kl.muli(softLabelWeight * temperature * temperature)), mask);
    }

    private double score(Terms t, INDArray mask, boolean average) {
        double sum = scoreArray(t, mask).sumNumber().doubleValue();
        return average ? sum / t.hard.size(0) : sum;
    }

    /** Gradient with respect to the logits: (1 - w)(p - y) + w T (p_T - q_T). */
    private INDArray gradient(Terms t, INDArray mask) {
        INDArray hard = Transforms.exp(t.logStudent, true).subi(t.hard).muli(1 - softLabelWeight);
        INDArray soft = Transforms.exp(t.logStudentSoft, true).subi(Transforms.exp(t.logTeacherSoft, true))
                .muli(softLabelWeight * temperature);
        return masked(hard.addi(soft), mask);
    }

    private static INDArray masked(INDArray perExample, INDArray mask) {
        return mask == null ? perExample
                : perExample.muliColumnVector(mask.reshape(mask.length(), 1).castTo(perExample.dataType()));
    }

    @Override
    public String name() {
        return "SoftLabelLoss(T=" + temperature + ", w=" + softLabelWeight + ")";
    }

    @Override
    public String toString() {
        return name();
    }

    /**
     * What score and gradient are made of: the one-hot labels, and the row-wise log-softmax of the
     * student's logits, of the student's at temperature T and of the teacher's at T.
     */
    private record Terms(INDArray hard, INDArray logStudent, INDArray logStudentSoft, INDArray logTeacherSoft) {
    }

    private Terms terms(INDArray labels, INDArray preOutput, IActivation activationFn) {
        if (!(activationFn instanceof ActivationSoftmax)) {
            throw new IllegalArgumentException("soft-label distillation needs a softmax output layer, got "
                    + activationFn);
        }
        long classes = preOutput.size(1);
        if (labels.size(1) != 2 * classes) {
            throw new IllegalArgumentException("soft-label distillation expects labels of 2 x " + classes
                    + " columns (one-hot label, then the teacher's logits), got " + labels.size(1));
        }
        INDArray l = labels.castTo(preOutput.dataType());
        INDArray teacher = l.get(NDArrayIndex.all(), NDArrayIndex.interval(classes, 2 * classes));
        return new Terms(l.get(NDArrayIndex.all(), NDArrayIndex.interval(0, classes)), logSoftmax(preOutput),
                logSoftmax(preOutput.div(temperature)), logSoftmax(teacher.div(temperature)));
    }

    /** The labels this loss reads: each one-hot row followed by the teacher's logits for that example. */
    public static INDArray labelsWithLogits(INDArray oneHot, INDArray teacherLogits) {
        return Nd4j.hstack(oneHot, teacherLogits.castTo(oneHot.dataType()));
    }

    /** Row-wise log-softmax, shifted by the row maximum so large logits do not overflow. */
    static INDArray logSoftmax(INDArray logits) {
        INDArray shifted = logits.subColumnVector(logits.max(true, 1));
        INDArray logSum = Transforms.log(Transforms.exp(shifted, true).sum(true, 1), false);
        return shifted.subiColumnVector(logSum);
    }
}
