package org.sparkslim.compression.distill;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.sparkslim.compression.model.GraphEdit;

/**
 * Feature distillation (hints, after FitNets): at each hinted layer the student's activation is pulled
 * towards the teacher's at the layer of the same name by a mean squared error (per example, averaged over
 * the activation's elements) times a weight, added to the classifier's loss.
 *
 * <p>A student pruned from the teacher carries a subset of the teacher's channels at each layer; the
 * teacher's activation is cut to those channels ({@code PruningPlan.keptChannels}), so the two compare
 * without an adapter layer. While training, each hinted layer feeds an extra network output, a loss
 * layer whose labels are the teacher's features ({@link #targets}); closing the {@link Attached} handle
 * copies the trained weights back into the plain student.
 */
public final class FeatureHints {
    /** Suffix of the loss layer that reads a hinted layer while training. */
    public static final String SUFFIX = "/hint";

    private final TeacherLogits teacher;
    private final Map<String, int[]> teacherChannels;
    private final double weight;
    private final boolean softLabels;

    /**
     * @param teacherChannels each hinted layer, with the teacher's channels the student's layer carries
     *                        in order (null: all of them, the student has the teacher's width there)
     * @param weight          of each layer's mean squared error
     * @param softLabels      whether the classifier's labels also carry the teacher's logits, for a
     *                        student whose output layer has a {@link SoftLabelLoss}: one teacher pass serves both
     */
    public FeatureHints(TeacherLogits teacher, Map<String, int[]> teacherChannels, double weight, boolean softLabels) {
        if (teacherChannels.isEmpty()) {
            throw new IllegalArgumentException("feature hints need at least one layer");
        }
        if (!(weight > 0)) {
            throw new IllegalArgumentException("feature hint weight must be positive, got " + weight);
        }
        for (String layer : teacherChannels.keySet()) {
            if (!teacher.has(layer)) {
                throw new IllegalArgumentException("hint layer '" + layer + "' is not a vertex of the teacher");
            }
        }
        this.teacher = teacher.tapping(List.copyOf(teacherChannels.keySet()));
        this.teacherChannels = new LinkedHashMap<>(teacherChannels);
        this.weight = weight;
        this.softLabels = softLabels;
    }

    public List<String> layers() {
        return List.copyOf(teacherChannels.keySet());
    }

    public double weight() {
        return weight;
    }

    /** A student with the hint outputs attached; closing it copies the trained weights back. */
    public interface Attached extends AutoCloseable {
        /** The network to train: the student's layers, and one loss output per hinted layer after its own. */
        ComputationGraph network();

        @Override
        void close();
    }

    /**
     * Attaches a loss output to each hinted layer of {@code student}, checking that the teacher has the
     * layer with as many channels as the mapping gives, and the student the layer with that many.
     *
     * @param input the type of the networks' input, for the activations' shapes
     */
    public Attached attachTo(ComputationGraph student, InputType input) {
        Map<String, InputType> studentTypes = student.getConfiguration().getLayerActivationTypes(input);
        GraphEdit edit = new GraphEdit(student);
        List<String> outputs = new ArrayList<>(edit.conf.getNetworkOutputs());
        for (Map.Entry<String, int[]> hint : teacherChannels.entrySet()) {
            String layer = hint.getKey();
            InputType studentType = studentTypes.get(layer);
            if (studentType == null) {
                throw new IllegalArgumentException("hint layer '" + layer + "' is not a vertex of the student");
            }
            InputType teacherType = teacher.activationType(layer, input);
            long teacherWidth = hint.getValue() == null ? channels(layer, teacherType) : hint.getValue().length;
            long studentWidth = channels(layer, studentType);
            if (studentWidth != teacherWidth || hint.getValue() != null && Arrays.stream(hint.getValue())
                    .anyMatch(c -> c < 0 || c >= channels(layer, teacherType))) {
                throw new IllegalArgumentException("hint layer '" + layer + "' has " + studentWidth
                        + " channels in the student and " + channels(layer, teacherType) + " in the teacher"
                        + (hint.getValue() == null ? "" : ", of which " + teacherWidth + " are mapped to the student"));
            }
            InputPreProcessor flatten = studentType instanceof InputType.InputTypeConvolutional c
                    ? new CnnToFeedForwardPreProcessor(c.getHeight(), c.getWidth(), c.getChannels()) : null;
            long elements = studentType.arrayElementsPerExample();
            // LossMSE averages over the elements; its weights (one per element) carry the hint's weight
            INDArray weights = Nd4j.valueArrayOf(new long[] {1, elements}, weight, student.params().dataType());
            // the loss reads the layer's own output; the layer's readers get a copy, which an activation
            // layer may rectify in place (as in the teacher, TeacherLogits#tapping)
            edit.insertAfter(layer, layer + TeacherLogits.TAP, new ScaleVertex(1.0));
            edit.addLayer(layer + SUFFIX, new LossLayer.Builder(new LossMSE(weights)).activation(Activation.IDENTITY)
                    .build(), flatten, layer);
            outputs.add(layer + SUFFIX);
        }
        edit.conf.setNetworkOutputs(outputs);
        ComputationGraph attached = edit.build();
        GraphEdit.copyParams(student, attached);
        return new Attached() {
            @Override
            public ComputationGraph network() {
                return attached;
            }

            @Override
            public void close() {
                GraphEdit.copyParams(attached, student);
                student.getConfiguration().setIterationCount(attached.getConfiguration().getIterationCount());
                student.getConfiguration().setEpochCount(attached.getConfiguration().getEpochCount());
            }
        };
    }

    private static long channels(String layer, InputType type) {
        if (type instanceof InputType.InputTypeConvolutional c) {
            return c.getChannels();
        }
        if (type instanceof InputType.InputTypeFeedForward f) {
            return f.getSize();
        }
        throw new IllegalArgumentException("hint layer '" + layer + "' has an activation of type " + type
                + "; hints work on convolutional and dense activations");
    }

    /**
     * A batch's labels for the attached student, from one teacher pass: the classifier's (with the
     * teacher's logits appended when soft labels are on), then each hinted layer's teacher features,
     * cut to the student's channels and flattened per example.
     */
    public MultiDataSet targets(DataSet batch) {
        Map<String, INDArray> activations = teacher.activations(batch.getFeatures());
        INDArray[] labels = new INDArray[1 + teacherChannels.size()];
        labels[0] = softLabels
                ? SoftLabelLoss.labelsWithLogits(batch.getLabels(), activations.get(teacher.outputName()))
                : batch.getLabels();
        int i = 1;
        for (Map.Entry<String, int[]> hint : teacherChannels.entrySet()) {
            INDArray features = activations.get(hint.getKey());
            if (hint.getValue() != null) {
                INDArrayIndex[] index = new INDArrayIndex[features.rank()];
                Arrays.fill(index, NDArrayIndex.all());
                index[1] = NDArrayIndex.indices(Arrays.stream(hint.getValue()).asLongStream().toArray());
                features = features.get(index);
            }
            labels[i++] = features.dup('c').reshape('c', features.size(0), -1).castTo(batch.getLabels().dataType());
        }
        return new MultiDataSet(new INDArray[] {batch.getFeatures()}, labels);
    }
}
