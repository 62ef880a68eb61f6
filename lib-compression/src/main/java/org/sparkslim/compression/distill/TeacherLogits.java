package org.sparkslim.compression.distill;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.model.GraphEdit;

/**
 * A teacher network that answers with its logits (the output layer's pre-softmax values) rather than
 * probabilities, so soft labels at any temperature come out exact: a confident teacher's smallest
 * probabilities underflow in float32, its logits do not. Works on a copy; the given network is not
 * changed.
 */
public final class TeacherLogits {
    /** Suffix of the copy vertex that {@link #tapping} puts after a vertex. */
    static final String TAP = "/tap";

    private final ComputationGraph teacher;
    private final long numClasses;

    private TeacherLogits(ComputationGraph tapped, long numClasses) {
        this.teacher = tapped;
        this.numClasses = numClasses;
    }

    public TeacherLogits(ComputationGraph network) {
        teacher = network.clone();
        BaseOutputLayer conf = ClassifierOutput.of(teacher, "teacher");
        if (!(conf.getActivationFn() instanceof ActivationSoftmax)) {
            throw new IllegalArgumentException("the teacher's output layer '" + conf.getLayerName()
                    + "' must be a softmax classifier, got " + conf.getClass().getSimpleName() + " with "
                    + conf.getActivationFn());
        }
        numClasses = conf.getNOut();
        conf.setActivationFn(new ActivationIdentity());
    }

    public long numClasses() {
        return numClasses;
    }

    /** The teacher's name for its output layer, whose activation in {@link #activations} is the logits. */
    public String outputName() {
        return teacher.getConfiguration().getNetworkOutputs().get(0);
    }

    public boolean has(String vertex) {
        return teacher.getConfiguration().getVertices().containsKey(vertex);
    }

    /** The shape of a vertex's activation for inputs of the given type; null when there is no such vertex. */
    public InputType activationType(String vertex, InputType input) {
        return teacher.getConfiguration().getLayerActivationTypes(input).get(vertex);
    }

    /**
     * The same teacher, with the given vertices' activations kept intact for {@link #activations}. At
     * inference DL4J's activation layers work in place on their input, so a batch norm's output read
     * after the pass would already be rectified; each of these vertices gets a copy vertex that its
     * readers read instead.
     *
     * @throws IllegalArgumentException naming a vertex the teacher does not have
     */
    public TeacherLogits tapping(List<String> vertices) {
        GraphEdit edit = new GraphEdit(teacher);
        for (String v : vertices) {
            edit.insertAfter(v, v + TAP, new ScaleVertex(1.0));
        }
        ComputationGraph tapped = edit.build();
        GraphEdit.copyParams(teacher, tapped);
        return new TeacherLogits(tapped, numClasses);
    }

    /**
     * Every vertex's activation for a batch of inputs (inference mode), the output layer's being the
     * logits; a vertex read by an activation layer is exact only when {@link #tapping} named it.
     */
    public Map<String, INDArray> activations(INDArray features) {
        return teacher.feedForward(features, false);
    }

    /** The teacher as a network whose output is its logits (to export, or to score with elsewhere). */
    public ComputationGraph network() {
        return teacher;
    }

    /** The teacher's logits for a batch of inputs, one row per example (inference mode). */
    public INDArray of(INDArray features) {
        return teacher.outputSingle(false, features);
    }
}
