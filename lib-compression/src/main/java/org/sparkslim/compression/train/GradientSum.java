package org.sparkslim.compression.train;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.util.Mergeable;

/**
 * The gradient of one optimisation step, computed on parts of its batch wherever those are (one per
 * worker) and summed: synchronous data-parallel training with one updater. Applied to the network the
 * parts were computed from, the sum makes the step {@code net.fit} would make on all the parts' images
 * at once, except that each part's batch normalizations use that part's batch statistics.
 *
 * <p>DL4J's gradients are sums over a batch's images, which its updater divides by the batch size,
 * except for batch normalization's running mean and variance, whose "gradient" is already the update
 * of a running average. A part therefore adds those scaled by its images, and {@link #applyTo} divides
 * everything by the images of all parts: the running statistics move by their images-weighted mean.
 */
public final class GradientSum implements Mergeable<GradientSum>, Serializable {
    private final float[] sum;
    private double lossSum;
    private long images;

    private GradientSum(float[] sum, double lossSum, long images) {
        this.sum = sum;
        this.lossSum = lossSum;
        this.images = images;
    }

    /**
     * The gradient of {@code net}'s loss on {@code batch} at its current parameters, which it leaves as
     * they are; its layers keep no activations afterwards.
     */
    public static GradientSum of(ComputationGraph net, MultiDataSet batch) {
        if (net.getFlattenedGradients() == null) {
            net.initGradientsView();
        }
        net.setInputs(batch.getFeatures());
        net.setLabels(batch.getLabels());
        net.computeGradientAndScore();
        long n = batch.getFeatures(0).size(0);
        float[] gradient = net.getFlattenedGradients().toFloatVector();
        for (long[] range : runningStatistics(net)) {
            for (int i = (int) range[0]; i < range[1]; i++) {
                gradient[i] *= n;
            }
        }
        double loss = net.score() * n;
        net.clearLayersStates();
        return new GradientSum(gradient, loss, n);
    }

    /** Adds {@code other} into this sum. */
    @Override
    public GradientSum merge(GradientSum other) {
        if (other.sum.length != sum.length) {
            throw new IllegalArgumentException("gradients of " + sum.length + " and " + other.sum.length
                    + " parameters come from different networks");
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] += other.sum[i];
        }
        lossSum += other.lossSum;
        images += other.images;
        return this;
    }

    /**
     * Takes the step on {@code net}: its updater (learning rate schedule, momentum, weight decay) turns
     * the mean gradient into an update, which is subtracted from the parameters; the iteration count
     * advances by one, as after {@code net.fit}.
     */
    public void applyTo(ComputationGraph net) {
        if (sum.length != net.numParams()) {
            throw new IllegalArgumentException("a gradient of " + sum.length + " parameters cannot step a network of "
                    + net.numParams());
        }
        if (net.getFlattenedGradients() == null) {
            net.initGradientsView();
        }
        float[] mean = new float[sum.length];
        for (int i = 0; i < sum.length; i++) {
            mean[i] = (float) (sum[i] / images);
        }
        INDArray update = Nd4j.createFromArray(mean).reshape(net.getFlattenedGradients().shape());
        int iteration = net.getConfiguration().getIterationCount();
        // an array other than the network's own gradient view takes DL4J's "external gradient" path;
        // already a mean, so the division by the batch size is by 1
        net.getUpdater().update(new DefaultGradient(update), iteration, net.getConfiguration().getEpochCount(), 1,
                LayerWorkspaceMgr.noWorkspaces());
        net.params().subi(update.reshape(net.params().shape()));
        net.getConfiguration().setIterationCount(iteration + 1);
    }

    /** The images-weighted mean of the parts' losses. */
    public double meanLoss() {
        return images == 0 ? Double.NaN : lossSum / images;
    }

    public long images() {
        return images;
    }

    /**
     * The ranges {@code [from, to)} of the flattened parameters whose "gradient" DL4J's updater does not
     * divide by the batch size (batch normalization's running statistics), in the order the updater lays
     * out the parameters: vertices in topological order, each vertex's parameters in table order.
     */
    static List<long[]> runningStatistics(ComputationGraph net) {
        List<long[]> ranges = new ArrayList<>();
        GraphVertex[] vertices = net.getVertices();
        long offset = 0;
        for (int index : net.topologicalSortOrder()) {
            GraphVertex vertex = vertices[index];
            if (vertex.numParams() == 0) {
                continue;
            }
            for (Map.Entry<String, INDArray> param : vertex.paramTable(false).entrySet()) {
                long length = param.getValue().length();
                if (!vertex.updaterDivideByMinibatch(param.getKey())) {
                    ranges.add(new long[] {offset, offset + length});
                }
                offset += length;
            }
        }
        if (offset != net.numParams()) {
            throw new IllegalStateException("the vertices hold " + offset + " of the network's " + net.numParams()
                    + " parameters");
        }
        return ranges;
    }
}
