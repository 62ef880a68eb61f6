package org.sparkslim.compression.distill;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.sparkslim.compression.model.GraphEdit;
import org.sparkslim.compression.train.LearnedLayerState;

/**
 * Feature distillation: {@link FeatureLoss}es between any student layers and any teacher layers, each
 * a mean squared error (per example, averaged over its elements) times its weight, added to the
 * classifier's loss.
 *
 * <p>While training, each loss is an extra output of the student: a loss layer reading the student's
 * layer (through a learned adapter when channel counts differ, through an {@link FspVertex} for FSP),
 * whose labels are the teacher's features or FSP matrices ({@link #targets}, one teacher pass per
 * batch). Closing the {@link Attached} handle copies the trained weights (and what layers such as fake
 * quantizers learned besides) back into the plain student; adapters are dropped.
 */
public final class FeatureLosses {
    private final TeacherLogits teacher;
    private final List<FeatureLoss> losses;
    private final boolean softLabels;

    /**
     * @param softLabels whether the classifier's labels also carry the teacher's logits, for a student
     *                   whose output layer has a {@link SoftLabelLoss}: one teacher pass serves both
     * @throws IllegalArgumentException when there is no loss
     * @throws InvalidLossException      when a loss names a layer the teacher does not have
     */
    public FeatureLosses(TeacherLogits teacher, List<FeatureLoss> losses, boolean softLabels) {
        if (losses.isEmpty()) {
            throw new IllegalArgumentException("feature distillation needs at least one loss");
        }
        Set<String> teacherLayers = new LinkedHashSet<>();
        for (int i = 0; i < losses.size(); i++) {
            for (String layer : losses.get(i).teacherLayers()) {
                if (!teacher.has(layer)) {
                    throw new InvalidLossException(i, losses.get(i) + ": '" + layer + "' is not a vertex of the teacher");
                }
                teacherLayers.add(layer);
            }
        }
        this.teacher = teacher.tapping(List.copyOf(teacherLayers));
        this.losses = List.copyOf(losses);
        this.softLabels = softLabels;
    }

    public List<FeatureLoss> losses() {
        return losses;
    }

    /** The name of the loss output of the {@code index}-th loss in the attached student. */
    public static String lossOutput(int index) {
        return vertex(index, "loss");
    }

    private static String vertex(int index, String part) {
        return "distill" + index + "/" + part;
    }

    /** A loss that does not fit the teacher or the student, with its position in the list of losses. */
    public static final class InvalidLossException extends IllegalArgumentException {
        private final int index;

        InvalidLossException(int index, String message) {
            super(message);
            this.index = index;
        }

        /** The position of the loss at fault in the list given to the constructor. */
        public int index() {
            return index;
        }
    }

    /** A student with the loss outputs attached; closing it copies the trained weights back. */
    public interface Attached extends AutoCloseable {
        /** The network to train: the student's layers, and one loss output per feature loss after its own. */
        ComputationGraph network();

        @Override
        void close();
    }

    /**
     * Attaches each loss to {@code student}, checking the layers' shapes against the teacher's.
     *
     * @param input the type of the networks' input, for the activations' shapes
     * @throws InvalidLossException naming the loss and layers whose shapes do not fit
     */
    public Attached attachTo(ComputationGraph student, InputType input) {
        Map<String, InputType> studentTypes = student.getConfiguration().getLayerActivationTypes(input);
        Map<String, InputType> teacherTypes = teacher.network().getConfiguration().getLayerActivationTypes(input);
        GraphEdit edit = new GraphEdit(student);
        BaseLayer template = trainableLayer(student);
        Set<String> tapped = new LinkedHashSet<>();
        List<String> outputs = new ArrayList<>(edit.conf.getNetworkOutputs());
        for (int i = 0; i < losses.size(); i++) {
            try {
                outputs.add(attach(edit, template, studentTypes, teacherTypes, tapped, i));
            } catch (IllegalArgumentException e) {
                throw new InvalidLossException(i, e.getMessage());
            }
        }
        edit.conf.setNetworkOutputs(outputs);
        ComputationGraph attached = edit.build();
        GraphEdit.copyParams(student, attached);
        LearnedLayerState.copy(student, attached);
        return new Attached() {
            @Override
            public ComputationGraph network() {
                return attached;
            }

            @Override
            public void close() {
                GraphEdit.copyParams(attached, student);
                LearnedLayerState.copy(attached, student);
                student.getConfiguration().setIterationCount(attached.getConfiguration().getIterationCount());
                student.getConfiguration().setEpochCount(attached.getConfiguration().getEpochCount());
            }
        };
    }

    /** Adds the {@code i}-th loss (and what it reads) to the edit; returns the name of its loss output. */
    private String attach(GraphEdit edit, BaseLayer template, Map<String, InputType> studentTypes,
                          Map<String, InputType> teacherTypes, Set<String> tapped, int i) {
        FeatureLoss loss = losses.get(i);
        for (String layer : loss.studentLayers()) {
            if (!studentTypes.containsKey(layer)) {
                throw new IllegalArgumentException(loss + ": '" + layer + "' is not a vertex of the student");
            }
            // the losses read the layer's own output; its readers get a copy, which an activation
            // layer may rectify in place (as in the teacher, TeacherLogits#tapping)
            if (tapped.add(layer)) {
                edit.insertAfter(layer, layer + TeacherLogits.TAP, new ScaleVertex(1.0));
            }
        }
        LossInput in = loss instanceof FeatureLoss.L2 l2 ? readL2(edit, template, studentTypes, teacherTypes, l2, i)
                : readFsp(edit, template, studentTypes, teacherTypes, (FeatureLoss.Fsp) loss, i);
        // LossMSE averages over the elements; its weights (one per element) carry the loss's weight
        INDArray weights = Nd4j.valueArrayOf(new long[] {1, in.elements()}, loss.weight(), edit.conf.getDataType());
        edit.addLayer(lossOutput(i), new LossLayer.Builder(new LossMSE(weights)).activation(Activation.IDENTITY)
                .build(), in.flatten(), in.vertex());
        return lossOutput(i);
    }

    /** What a loss layer reads: a vertex, its elements per example, and the preprocessor that flattens it. */
    private record LossInput(String vertex, long elements, InputPreProcessor flatten) {
    }

    /** The student layer, adapted to the teacher's channels when they differ. */
    private static LossInput readL2(GraphEdit edit, BaseLayer template, Map<String, InputType> studentTypes,
                                    Map<String, InputType> teacherTypes, FeatureLoss.L2 l2, int i) {
        InputType s = studentTypes.get(l2.student());
        InputType t = teacherTypes.get(l2.teacher());
        long width = l2.teacherChannels() == null ? channels(l2, l2.teacher(), t) : checkedSubset(l2, t);
        checkSameSize(l2, l2.student(), s, l2.teacher(), t);
        String vertex = adapted(edit, template, l2, l2.student(), s, width, l2.teacherChannels() == null,
                vertex(i, "adapter"));
        if (s instanceof InputType.InputTypeConvolutional c) {
            return new LossInput(vertex, width * c.getHeight() * c.getWidth(),
                    new CnnToFeedForwardPreProcessor(c.getHeight(), c.getWidth(), width));
        }
        return new LossInput(vertex, width, null);
    }

    /** The FSP matrices of the student pair, each layer adapted to its teacher layer's channels. */
    private static LossInput readFsp(GraphEdit edit, BaseLayer template, Map<String, InputType> studentTypes,
                                     Map<String, InputType> teacherTypes, FeatureLoss.Fsp fsp, int i) {
        long from = checkedPair(fsp, fsp.teacherFrom(), fsp.teacherTo(), teacherTypes, "teacher");
        long to = channels(fsp, fsp.teacherTo(), teacherTypes.get(fsp.teacherTo()));
        checkedPair(fsp, fsp.studentFrom(), fsp.studentTo(), studentTypes, "student");
        String a = adapted(edit, template, fsp, fsp.studentFrom(), studentTypes.get(fsp.studentFrom()), from, true,
                vertex(i, "adapter-from"));
        String b = adapted(edit, template, fsp, fsp.studentTo(), studentTypes.get(fsp.studentTo()), to, true,
                vertex(i, "adapter-to"));
        String vertex = vertex(i, "fsp");
        edit.vertices.put(vertex, new FspVertex());
        edit.inputs.put(vertex, List.of(a, b));
        return new LossInput(vertex, from * to, null);
    }

    /**
     * {@code layer} itself when it has {@code width} channels, else a new 1x1 convolution (dense layer
     * for flat activations) from it to {@code width} channels, trained with the student's updater.
     */
    private static String adapted(GraphEdit edit, BaseLayer template, FeatureLoss loss, String layer, InputType type,
                                  long width, boolean adaptable, String adapter) {
        long own = channels(loss, layer, type);
        if (own == width) {
            return layer;
        }
        if (!adaptable) {
            throw new IllegalArgumentException(loss + ": '" + layer + "' has " + own + " channels in the student, and "
                    + width + " of the teacher's channels are mapped to it");
        }
        Layer conf = type instanceof InputType.InputTypeConvolutional
                ? new ConvolutionLayer.Builder(1, 1).nIn(own).nOut(width).hasBias(false).activation(Activation.IDENTITY)
                .weightInit(WeightInit.XAVIER).updater(template.getIUpdater().clone())
                .regularization(template.getRegularization()).build()
                : new DenseLayer.Builder().nIn(own).nOut(width).hasBias(false).activation(Activation.IDENTITY)
                .weightInit(WeightInit.XAVIER).updater(template.getIUpdater().clone())
                .regularization(template.getRegularization()).build();
        edit.addLayer(adapter, conf, null, layer);
        return adapter;
    }

    /** A layer of the student with an updater, whose settings the adapters copy. */
    private static BaseLayer trainableLayer(ComputationGraph student) {
        for (org.deeplearning4j.nn.api.Layer layer : student.getLayers()) {
            if (layer.conf().getLayer() instanceof BaseLayer base && base.getIUpdater() != null) {
                return base;
            }
        }
        throw new IllegalArgumentException("the student has no trainable layer");
    }

    private static long checkedSubset(FeatureLoss.L2 l2, InputType teacherType) {
        long all = channels(l2, l2.teacher(), teacherType);
        if (Arrays.stream(l2.teacherChannels()).anyMatch(c -> c < 0 || c >= all)) {
            throw new IllegalArgumentException(l2 + ": a mapped channel is outside the teacher's " + all
                    + " channels of '" + l2.teacher() + "'");
        }
        return l2.teacherChannels().length;
    }

    /** Checks that the pair's layers are feature maps of one size; returns the first one's channels. */
    private static long checkedPair(FeatureLoss loss, String from, String to, Map<String, InputType> types,
                                    String role) {
        if (!(types.get(from) instanceof InputType.InputTypeConvolutional a)
                || !(types.get(to) instanceof InputType.InputTypeConvolutional b)) {
            throw new IllegalArgumentException(loss + ": an FSP pair needs two convolutional layers; the " + role + "'s are "
                    + types.get(from) + " and " + types.get(to));
        }
        if (a.getHeight() != b.getHeight() || a.getWidth() != b.getWidth()) {
            throw new IllegalArgumentException(loss + ": the " + role + "'s '" + from + "' is " + a.getHeight() + "x"
                    + a.getWidth() + " and '" + to + "' " + b.getHeight() + "x" + b.getWidth()
                    + "; an FSP pair needs feature maps of one size");
        }
        return a.getChannels();
    }

    private static void checkSameSize(FeatureLoss loss, String studentLayer, InputType s, String teacherLayer,
                                      InputType t) {
        boolean same = s instanceof InputType.InputTypeConvolutional a && t instanceof InputType.InputTypeConvolutional b
                ? a.getHeight() == b.getHeight() && a.getWidth() == b.getWidth()
                : s instanceof InputType.InputTypeFeedForward && t instanceof InputType.InputTypeFeedForward;
        if (!same) {
            throw new IllegalArgumentException(loss + ": the student's '" + studentLayer + "' is " + describe(s)
                    + " and the teacher's '" + teacherLayer + "' " + describe(t)
                    + "; an L2 loss needs activations of one height and width");
        }
    }

    private static String describe(InputType type) {
        if (type instanceof InputType.InputTypeConvolutional c) {
            return c.getChannels() + "x" + c.getHeight() + "x" + c.getWidth();
        }
        return type instanceof InputType.InputTypeFeedForward f ? "flat of " + f.getSize() : String.valueOf(type);
    }

    private static long channels(FeatureLoss loss, String layer, InputType type) {
        if (type instanceof InputType.InputTypeConvolutional c) {
            return c.getChannels();
        }
        if (type instanceof InputType.InputTypeFeedForward f) {
            return f.getSize();
        }
        throw new IllegalArgumentException(loss + ": '" + layer + "' has an activation of type " + type
                + "; feature losses work on convolutional and dense activations");
    }

    /**
     * A batch's labels for the attached student, from one teacher pass: the classifier's (with the
     * teacher's logits appended when soft labels are on), then each loss's target: the teacher layer's
     * activation (cut to the mapped channels) flattened per example, or the teacher pair's FSP matrices.
     */
    public MultiDataSet targets(DataSet batch) {
        Map<String, INDArray> activations = teacher.activations(batch.getFeatures());
        INDArray[] labels = new INDArray[1 + losses.size()];
        labels[0] = softLabels
                ? SoftLabelLoss.labelsWithLogits(batch.getLabels(), activations.get(teacher.outputName()))
                : batch.getLabels();
        int i = 1;
        for (FeatureLoss loss : losses) {
            INDArray target;
            if (loss instanceof FeatureLoss.L2 l2 && l2.teacherChannels() != null) {
                target = activations.get(l2.teacher());
                INDArrayIndex[] index = new INDArrayIndex[target.rank()];
                Arrays.fill(index, NDArrayIndex.all());
                index[1] = NDArrayIndex.indices(Arrays.stream(l2.teacherChannels()).asLongStream().toArray());
                target = target.get(index);
                target = target.dup('c').reshape('c', target.size(0), -1);
            } else {
                target = loss.teacherTarget().of(activations);
            }
            labels[i++] = target.castTo(batch.getLabels().dataType());
        }
        return new MultiDataSet(new INDArray[] {batch.getFeatures()}, labels);
    }

    /**
     * A batch's labels for the attached student when the teacher's answers were stored beforehand
     * (offline): each row of {@code batch}'s labels holds the one-hot label, the teacher's logits (both
     * {@code classes} wide), then the stored target of each loss in order, {@code widths[i]} wide.
     */
    public static MultiDataSet storedTargets(DataSet batch, long classes, long[] widths) {
        INDArray all = batch.getLabels();
        INDArray[] labels = new INDArray[1 + widths.length];
        labels[0] = all.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2 * classes)).dup();
        long start = 2 * classes;
        for (int i = 0; i < widths.length; i++) {
            labels[i + 1] = all.get(NDArrayIndex.all(), NDArrayIndex.interval(start, start + widths[i])).dup();
            start += widths[i];
        }
        if (start != all.size(1)) {
            throw new IllegalArgumentException("labels of " + all.size(1) + " columns for " + classes
                    + " classes and stored targets " + Arrays.toString(widths));
        }
        return new MultiDataSet(new INDArray[] {batch.getFeatures()}, labels);
    }
}
