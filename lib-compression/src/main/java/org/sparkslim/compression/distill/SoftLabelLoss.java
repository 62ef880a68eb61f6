package org.sparkslim.compression.distill;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
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
 * the teacher's logits ({@link DistillingBatchSource} builds them). The loss works on the output
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
        Parts p = parts(labels, preOutput, activationFn);
        INDArray hard = p.hard.mul(logSoftmax(preOutput)).sum(true, 1).negi();
        INDArray logTeacher = logSoftmax(p.teacher.div(temperature));
        INDArray kl = Transforms.exp(logTeacher, true).muli(logTeacher.sub(logSoftmax(preOutput.div(temperature))))
                .sum(true, 1);
        INDArray score = hard.muli(1 - softLabelWeight).addi(kl.muli(softLabelWeight * temperature * temperature));
        return mask == null ? score : score.muliColumnVector(mask.reshape(mask.length(), 1).castTo(score.dataType()));
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        double sum = computeScoreArray(labels, preOutput, activationFn, mask).sumNumber().doubleValue();
        return average ? sum / preOutput.size(0) : sum;
    }

    /** Gradient with respect to the logits: (1 - w)(p - y) + w T (p_T - q_T). */
    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Parts p = parts(labels, preOutput, activationFn);
        INDArray hard = Transforms.exp(logSoftmax(preOutput), false).subi(p.hard).muli(1 - softLabelWeight);
        INDArray soft = Transforms.exp(logSoftmax(preOutput.div(temperature)), false)
                .subi(Transforms.exp(logSoftmax(p.teacher.div(temperature)), false))
                .muli(softLabelWeight * temperature);
        INDArray gradient = hard.addi(soft);
        return mask == null ? gradient
                : gradient.muliColumnVector(mask.reshape(mask.length(), 1).castTo(gradient.dataType()));
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
                computeGradient(labels, preOutput, activationFn, mask));
    }

    @Override
    public String name() {
        return "SoftLabelLoss(T=" + temperature + ", w=" + softLabelWeight + ")";
    }

    @Override
    public String toString() {
        return name();
    }

    private record Parts(INDArray hard, INDArray teacher) {
    }

    private static Parts parts(INDArray labels, INDArray preOutput, IActivation activationFn) {
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
        return new Parts(l.get(NDArrayIndex.all(), NDArrayIndex.interval(0, classes)),
                l.get(NDArrayIndex.all(), NDArrayIndex.interval(classes, 2 * classes)));
    }

    /** Row-wise log-softmax, shifted by the row maximum so large logits do not overflow. */
    static INDArray logSoftmax(INDArray logits) {
        INDArray shifted = logits.subColumnVector(logits.max(true, 1));
        INDArray logSum = Transforms.log(Transforms.exp(shifted, true).sum(true, 1), false);
        return shifted.subiColumnVector(logSum);
    }
}
