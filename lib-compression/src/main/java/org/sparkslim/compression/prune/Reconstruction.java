package org.sparkslim.compression.prune;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.convolution.Convolution;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.sparkslim.compression.model.LayerKind;
import org.sparkslim.compression.train.BatchSource;

/**
 * Refits, by ridge regression, the layers that lost input channels so that they compute what they
 * computed in the original network (channel pruning by reconstruction, as in ThiNet and He et al.'s
 * channel pruning). Removing a channel also removes its share of every output of the layer that read
 * it; when the removed channel is correlated with kept ones, new weights on the kept channels make up
 * most of that share, so the pruned network starts fine-tuning closer to the original.
 *
 * <p>Layers are refitted in network order on the pruned network's own inputs (earlier refits and
 * every narrowing upstream included), against the original layer's outputs (before its activation)
 * at the channels the plan keeps. A convolution is linear in each output pixel's input patch, so
 * every pixel is a sample (up to {@link #POSITIONS_PER_IMAGE} random ones per image); a dense layer
 * has one sample per image. Each layer's ridge is the candidate whose fit on four fifths of the
 * images reproduces the other fifth best. Other consumers keep their sliced weights. A layer's
 * constant term goes to its bias, or, for a layer without one whose only reader is a batch norm, to
 * that batch norm's running mean.
 */
public final class Reconstruction {
    /**
     * Candidate ridge terms, relative to the inputs' mean variance. The smallest keeps dead
     * channels solvable; larger ones keep the weights from growing to fit the fitting images' noise
     * when kept channels are nearly collinear (a classifier after global pooling, mostly).
     */
    static final double[] RIDGES = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1};
    /** Every this-many-th fitting image is held out to choose the ridge. */
    static final int HOLD_OUT_EVERY = 5;
    /** Samples per unknown below which a fit would learn the fitting images rather than the layer. */
    static final int SAMPLES_PER_UNKNOWN = 4;
    /** Output pixels sampled per image from larger feature maps: neighbours add little but cost. */
    static final int POSITIONS_PER_IMAGE = 64;
    /** Images per forward pass, which bounds the size of a convolution's patch matrix. */
    private static final int CHUNK = 32;

    private Reconstruction() {
    }

    /**
     * How well one layer reproduces the original's outputs on the fitting images: the mean squared
     * error over the outputs' variance, with the sliced weights and with the refitted ones, and the
     * ridge (relative) chosen on the held-out images.
     */
    public record LayerFit(String layer, long samples, double ridge, double errorBefore, double errorAfter) {
    }

    /** The refitted layers in network order, and the consumers of pruned channels left as sliced, with why. */
    public record Result(List<LayerFit> fits, Map<String, String> skipped) {
    }

    /**
     * Refits {@code pruned}'s layers in place.
     *
     * @param original the network the plan was applied to (not modified)
     * @param pruned   {@code Pruner.apply(original, plan)}
     * @param graph    {@code original}'s channel graph
     * @param images   the fitting images (labels unused)
     * @param seed     for the choice of pixel positions sampled in large feature maps
     */
    public static Result refit(ComputationGraph original, ComputationGraph pruned, PruningPlan plan,
                               ChannelGraph graph, BatchSource images, long seed) {
        Set<String> consumers = new LinkedHashSet<>();
        for (PruningPlan.GroupPlan gp : plan.groups()) {
            graph.group(gp.group()).members(Role.CONSUMER).forEach(m -> consumers.add(m.vertex()));
        }
        List<LayerFit> fits = new ArrayList<>();
        Map<String, String> skipped = new LinkedHashMap<>();
        for (String vertex : networkOrder(pruned)) {
            if (!consumers.remove(vertex)) {
                continue;
            }
            String why = notRefittable(pruned, vertex);
            if (why != null) {
                skipped.put(vertex, why);
                continue;
            }
            LayerFit fit = refitLayer(original, pruned, plan, graph, vertex, images, seed + fits.size() + skipped.size());
            if (fit == null) {
                skipped.put(vertex, "fewer than " + SAMPLES_PER_UNKNOWN + " samples per weight; use more images");
            } else {
                fits.add(fit);
            }
        }
        consumers.forEach(v -> skipped.put(v, "removed with its residual block"));
        return new Result(fits, skipped);
    }

    private static List<String> networkOrder(ComputationGraph net) {
        return Arrays.stream(net.topologicalSortOrder()).mapToObj(i -> net.getVertices()[i].getVertexName()).toList();
    }

    /** Why a layer cannot be refitted, or null when it can. */
    private static String notRefittable(ComputationGraph net, String vertex) {
        LayerVertex lv = (LayerVertex) net.getConfiguration().getVertices().get(vertex);
        Layer layer = lv.getLayerConf().getLayer();
        LayerKind kind = LayerKind.of(layer);
        if (kind == LayerKind.CONVOLUTION) {
            ConvolutionLayer conv = (ConvolutionLayer) layer;
            return Arrays.equals(conv.getDilation(), new int[] {1, 1}) ? null : "a dilated convolution";
        }
        boolean flat = lv.getPreProcessor() == null || lv.getPreProcessor() instanceof CnnToFeedForwardPreProcessor;
        if (kind.isFullyConnected() && flat) {
            return null;
        }
        return "a " + layer.getClass().getSimpleName() + (flat ? "" : " after a " + lv.getPreProcessor().getClass()
                .getSimpleName()) + "; only convolutions and dense layers are refitted";
    }

    /** The layer's fit, applied; null (nothing changed) when there are too few samples for its inputs. */
    private static LayerFit refitLayer(ComputationGraph original, ComputationGraph pruned, PruningPlan plan,
                                       ChannelGraph graph, String vertex, BatchSource images, long seed) {
        org.deeplearning4j.nn.api.Layer layer = pruned.getLayer(vertex);
        LinearView view = LinearView.of(layer.conf().getLayer());
        String originalInput = original.getConfiguration().getVertexInputs().get(vertex).get(0);
        String prunedInput = pruned.getConfiguration().getVertexInputs().get(vertex).get(0);
        INDArray originalBias = original.getLayer(vertex).paramTable().get("b");
        int[] keptOut = plan.keptChannels(graph, vertex);
        INDArray target = LayerSurgery.select(view.matrix(original.getLayer(vertex).getParam("W")), 1, keptOut);
        INDArray targetBias = originalBias == null ? null
                : LayerSurgery.select(originalBias.reshape(1, -1).castTo(DataType.DOUBLE), 1, keptOut);
        String interceptTo = interceptTarget(pruned, vertex, layer);

        Random positions = new Random(seed);
        NormalEquations fitting = null;
        NormalEquations heldOut = null;
        long image = 0;
        for (Iterator<DataSet> batches = images.epoch(0); batches.hasNext(); ) {
            INDArray features = batches.next().getFeatures();
            int[][] parts = splitImages(features.size(0), image);
            image += features.size(0);
            for (int part = 0; part < parts.length; part++) {
                INDArray subset = imagesAt(features, parts[part]);
                for (long from = 0; subset != null && from < subset.size(0); from += CHUNK) {
                    INDArray[] x = {subset.get(NDArrayIndex.interval(from, Math.min(from + CHUNK, subset.size(0))))};
                    INDArray inputs = view.samples(activation(pruned, prunedInput, x));
                    int[] rows = sampledRows(x[0].size(0), inputs.rows(), positions);
                    INDArray outputs = rowsOf(view.samples(activation(original, originalInput, x)), rows).mmul(target);
                    if (targetBias != null) {
                        outputs.addiRowVector(targetBias);
                    }
                    if (fitting == null) {
                        fitting = new NormalEquations(inputs.columns(), outputs.columns());
                        heldOut = new NormalEquations(inputs.columns(), outputs.columns());
                    }
                    (part == 0 ? fitting : heldOut).add(rowsOf(inputs, rows), outputs);
                }
            }
        }
        if (fitting == null) {
            throw new IllegalArgumentException("reconstruction needs at least one batch of images");
        }
        NormalEquations eq = fitting.plus(heldOut);
        if (eq.samples < SAMPLES_PER_UNKNOWN * (eq.xx.rows())) {
            return null;
        }
        INDArray current = view.matrix(layer.getParam("W"));
        INDArray currentIntercept = "b".equals(interceptTo) ? layer.getParam("b").reshape(1, -1).castTo(DataType.DOUBLE)
                : Nd4j.zeros(DataType.DOUBLE, 1, current.columns());
        double errorBefore = eq.relativeError(current, currentIntercept);
        double ridge = chooseRidge(fitting, heldOut, interceptTo != null);
        INDArray[] solution = eq.solve(interceptTo != null, ridge);
        double errorAfter = eq.relativeError(solution[0], solution[1]);
        INDArray w = layer.getParam("W");
        layer.setParam("W", view.parameter(solution[0], w));
        if ("b".equals(interceptTo)) {
            INDArray b = layer.getParam("b");
            layer.setParam("b", solution[1].castTo(b.dataType()).reshape(b.shape()));
        } else if (interceptTo != null) {
            // batch norm of (y - c) with mean m equals batch norm of y with mean m + c
            org.deeplearning4j.nn.api.Layer bn = pruned.getLayer(interceptTo);
            INDArray mean = bn.getParam("mean");
            bn.setParam("mean", mean.castTo(DataType.DOUBLE).reshape(1, -1).sub(solution[1])
                    .castTo(mean.dataType()).reshape(mean.shape()));
        }
        return new LayerFit(vertex, eq.samples, ridge, errorBefore, errorAfter);
    }

    /**
     * The candidate ridge whose fit on {@code fitting} reproduces {@code heldOut} best (the smallest
     * one when nothing is held out). Package-private for tests.
     */
    static double chooseRidge(NormalEquations fitting, NormalEquations heldOut, boolean constant) {
        double best = RIDGES[0];
        if (heldOut.samples == 0 || fitting.samples == 0) {
            return best;
        }
        double bestError = Double.POSITIVE_INFINITY;
        for (double ridge : RIDGES) {
            INDArray[] solution = fitting.solve(constant, ridge);
            double error = heldOut.relativeError(solution[0], solution[1]);
            if (error < bestError) {
                best = ridge;
                bestError = error;
            }
        }
        return best;
    }

    /**
     * The positions in a batch of {@code images} images, the first numbered {@code first}, of the
     * fitting images and of the held-out ones.
     */
    private static int[][] splitImages(long images, long first) {
        int[] fit = new int[(int) images];
        int[] held = new int[(int) images];
        int f = 0;
        int h = 0;
        for (int i = 0; i < images; i++) {
            if ((first + i) % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1) {
                held[h++] = i;
            } else {
                fit[f++] = i;
            }
        }
        return new int[][] {Arrays.copyOf(fit, f), Arrays.copyOf(held, h)};
    }

    /** The images of {@code batch} at {@code positions}; null when there are none. */
    private static INDArray imagesAt(INDArray batch, int[] positions) {
        if (positions.length == 0) {
            return null;
        }
        if (positions.length == batch.size(0)) {
            return batch;
        }
        long[] shape = batch.shape().clone();
        shape[0] = positions.length;
        return Nd4j.pullRows(batch.reshape('c', batch.size(0), batch.length() / batch.size(0)), 1, positions)
                .reshape('c', shape);
    }

    /** The rows of {@code m} at {@code rows}, all of them when null (a native gather; getRows copies row by row). */
    private static INDArray rowsOf(INDArray m, int[] rows) {
        return rows == null ? m : Nd4j.pullRows(m, 1, rows);
    }

    /** The activation of {@code vertex}, computing no further than it (inference mode). */
    private static INDArray activation(ComputationGraph net, String vertex, INDArray[] x) {
        // DL4J stops after this many vertices of its topological order, not at a vertex index
        int[] order = net.topologicalSortOrder();
        int index = net.getVertex(vertex).getVertexIndex();
        int position = 0;
        while (order[position] != index) {
            position++;
        }
        return net.feedForward(x, position, false, false).get(vertex);
    }

    /**
     * Which rows to keep of {@code rows} samples from {@code images} images (each image's rows
     * together): {@link #POSITIONS_PER_IMAGE} random positions of each image, or null for all of them.
     */
    private static int[] sampledRows(long images, long rows, Random random) {
        int perImage = (int) (rows / images);
        if (perImage <= POSITIONS_PER_IMAGE) {
            return null;
        }
        int[] picked = new int[(int) images * POSITIONS_PER_IMAGE];
        int[] order = java.util.stream.IntStream.range(0, perImage).toArray();
        for (int i = 0; i < images; i++) {
            for (int k = 0; k < POSITIONS_PER_IMAGE; k++) { // a partial Fisher-Yates shuffle
                int j = k + random.nextInt(perImage - k);
                int t = order[k];
                order[k] = order[j];
                order[j] = t;
                picked[i * POSITIONS_PER_IMAGE + k] = i * perImage + order[k];
            }
        }
        return picked;
    }

    /**
     * A layer as a linear map from sample rows to output rows: a convolution sees each output pixel's
     * receptive field (its input patch, flattened like the weights' [in, kH, kW]), a dense layer each
     * image's vector.
     */
    private record LinearView(ConvolutionLayer convolution) {
        static LinearView of(Layer layer) {
            return new LinearView(layer instanceof ConvolutionLayer conv ? conv : null);
        }

        /** [samples, inputs] in double: one row per image, or per output pixel and image. */
        INDArray samples(INDArray input) {
            if (convolution == null) { // a vector, or a feature map flattened in DL4J's [c, h, w] order
                return input.castTo(DataType.DOUBLE).reshape('c', input.size(0), input.length() / input.size(0));
            }
            int[] k = convolution.getKernelSize();
            int[] s = convolution.getStride();
            int[] p = convolution.getPadding();
            // [n, c, kH, kW, outH, outW] -> [n, outH, outW, c, kH, kW]
            INDArray patches = Convolution.im2col(input.castTo(DataType.FLOAT), k[0], k[1], s[0], s[1], p[0], p[1],
                    convolution.getConvolutionMode() == ConvolutionMode.Same).permute(0, 4, 5, 1, 2, 3)
                    .castTo(DataType.DOUBLE).dup('c');
            return patches.reshape(patches.size(0) * patches.size(1) * patches.size(2),
                    patches.size(3) * patches.size(4) * patches.size(5));
        }

        /** The weights as an [inputs, outputs] matrix in double (a convolution's [out, in, kH, kW] flattened). */
        INDArray matrix(INDArray w) {
            INDArray m = w.castTo(DataType.DOUBLE);
            return convolution == null ? m.reshape(w.size(0), w.size(1)).dup('c')
                    : m.reshape(w.size(0), w.length() / w.size(0)).transpose().dup('c');
        }

        /** An [inputs, outputs] matrix back as the parameter {@code like}'s shape and type. */
        INDArray parameter(INDArray matrix, INDArray like) {
            INDArray m = convolution == null ? matrix : matrix.transpose();
            return m.dup('c').castTo(like.dataType()).reshape(like.shape());
        }
    }

    /**
     * Where the layer's constant term goes: "b" for its bias, the name of the batch norm that alone
     * reads it, or null when there is nowhere to put one (the fit then has no constant).
     */
    private static String interceptTarget(ComputationGraph net, String vertex, org.deeplearning4j.nn.api.Layer layer) {
        if (layer.paramTable().containsKey("b")) {
            return "b";
        }
        ComputationGraphConfiguration conf = net.getConfiguration();
        List<String> readers = conf.getVertexInputs().entrySet().stream()
                .filter(e -> e.getValue().contains(vertex)).map(Map.Entry::getKey).toList();
        if (readers.size() == 1 && LayerKind.of(conf.getVertices().get(readers.get(0))) == LayerKind.BATCH_NORM) {
            return readers.get(0);
        }
        return null;
    }

    /** Sums over samples of [x 1]^T [x 1], [x 1]^T y and y^2, from which the fit and its errors follow. */
    static final class NormalEquations {
        private final INDArray xx;
        private final INDArray xy;
        private final INDArray ySum;
        private double yy;
        private long samples;

        NormalEquations(long inputs, long outputs) {
            xx = Nd4j.zeros(DataType.DOUBLE, inputs + 1, inputs + 1);
            xy = Nd4j.zeros(DataType.DOUBLE, inputs + 1, outputs);
            ySum = Nd4j.zeros(DataType.DOUBLE, 1, outputs);
        }

        void add(INDArray x, INDArray y) {
            INDArray x1 = Nd4j.hstack(x, Nd4j.ones(DataType.DOUBLE, x.rows(), 1));
            xx.addi(x1.transpose().mmul(x1));
            xy.addi(x1.transpose().mmul(y));
            ySum.addi(y.sum(true, 0));
            yy += y.mul(y).sumNumber().doubleValue();
            samples += x.rows();
        }

        /** The sums over both sets of samples. */
        NormalEquations plus(NormalEquations other) {
            NormalEquations sum = new NormalEquations(xx.rows() - 1, xy.columns());
            sum.xx.addi(xx).addi(other.xx);
            sum.xy.addi(xy).addi(other.xy);
            sum.ySum.addi(ySum).addi(other.ySum);
            sum.yy = yy + other.yy;
            sum.samples = samples + other.samples;
            return sum;
        }

        /**
         * [weights, constant] minimizing the squared error plus a ridge on the weights ({@code
         * relativeRidge} times the inputs' mean variance, or second moment without a constant). With a
         * constant the fit is on centred inputs and outputs, which keeps it well conditioned when the
         * inputs vary little around a large mean (a classifier after global pooling).
         */
        INDArray[] solve(boolean constant, double relativeRidge) {
            int n = (int) xx.rows() - 1;
            org.nd4j.linalg.indexing.INDArrayIndex all = NDArrayIndex.all();
            INDArray moments = xx.get(NDArrayIndex.interval(0, n), NDArrayIndex.interval(0, n)).div(samples);
            INDArray cross = xy.get(NDArrayIndex.interval(0, n), all).div(samples);
            INDArray meanX = xx.get(NDArrayIndex.interval(n, n + 1), NDArrayIndex.interval(0, n)).div(samples);
            INDArray meanY = ySum.div(samples);
            if (constant) {
                moments.subi(meanX.transpose().mmul(meanX));
                cross.subi(meanX.transpose().mmul(meanY));
            }
            double ridge = relativeRidge * Math.max(Nd4j.diag(moments).meanNumber().doubleValue(), 1e-12);
            for (int i = 0; i < n; i++) {
                moments.putScalar(i, i, moments.getDouble(i, i) + ridge);
            }
            INDArray weights = choleskySolve(moments, cross);
            INDArray offset = constant ? meanY.sub(meanX.mmul(weights)) : Nd4j.zeros(DataType.DOUBLE, 1, xy.columns());
            return new INDArray[] {weights, offset};
        }

        /** Solves a x = b for a symmetric positive definite {@code a} (at most a few thousand rows). */
        private static INDArray choleskySolve(INDArray a, INDArray b) {
            double[][] m = a.toDoubleMatrix();
            int n = m.length;
            for (int j = 0; j < n; j++) { // m becomes L (lower triangle), L L^T = a
                double d = m[j][j];
                for (int k = 0; k < j; k++) {
                    d -= m[j][k] * m[j][k];
                }
                if (!(d > 0)) {
                    throw new IllegalStateException("reconstruction: the inputs' second moments are not positive definite");
                }
                m[j][j] = Math.sqrt(d);
                for (int i = j + 1; i < n; i++) {
                    double v = m[i][j];
                    for (int k = 0; k < j; k++) {
                        v -= m[i][k] * m[j][k];
                    }
                    m[i][j] = v / m[j][j];
                }
            }
            double[][] x = b.toDoubleMatrix();
            int columns = x.length == 0 ? 0 : x[0].length;
            for (int c = 0; c < columns; c++) {
                for (int i = 0; i < n; i++) { // L y = b
                    double v = x[i][c];
                    for (int k = 0; k < i; k++) {
                        v -= m[i][k] * x[k][c];
                    }
                    x[i][c] = v / m[i][i];
                }
                for (int i = n - 1; i >= 0; i--) { // L^T x = y
                    double v = x[i][c];
                    for (int k = i + 1; k < n; k++) {
                        v -= m[k][i] * x[k][c];
                    }
                    x[i][c] = v / m[i][i];
                }
            }
            return Nd4j.create(x);
        }

        /** Mean squared error of y ~ x w + c over the variance of y (0: exact, 1: no better than y's mean). */
        double relativeError(INDArray w, INDArray c) {
            INDArray theta = Nd4j.vstack(w, c);
            double sse = yy - 2 * theta.mul(xy).sumNumber().doubleValue()
                    + theta.mul(xx.mmul(theta)).sumNumber().doubleValue();
            double variance = yy - ySum.mul(ySum).sumNumber().doubleValue() / samples;
            return Math.max(sse, 0) / Math.max(variance, 1e-12);
        }
    }
}
