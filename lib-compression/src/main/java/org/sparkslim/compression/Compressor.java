package org.sparkslim.compression;

import java.util.function.ToLongFunction;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.onnx.Int8OnnxExporter;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.Criterion;
import org.sparkslim.compression.prune.Importance;
import org.sparkslim.compression.prune.PlanBuilder;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.PruningScope;
import org.sparkslim.compression.prune.RatioSolver;
import org.sparkslim.compression.quant.ActivationStatistics;
import org.sparkslim.compression.quant.Calibration;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.QuantizationConfig;
import org.sparkslim.compression.quant.RangeFreezing;

/**
 * The library in a few lines, for a Java user with a network of their own and no Spark: prune it,
 * quantize it after training, export it.
 *
 * <pre>{@code
 * byte[] onnx = Compressor.of(net, new ImageShape(1, 28, 28))
 *         .pruneUniformly(0.5)              // -50% MACs, filters of least L1 norm, every prunable layer
 *         .quantize(calibrationImages)      // int8, ranges from these images (MSE calibration)
 *         .onnx();                          // an int8 model for ONNX Runtime
 * }</pre>
 *
 * Each step returns a new compressor; the network of any step is {@link #network()}, to fine-tune or
 * evaluate with the {@code train} package between steps. The pipeline's stages do the same with more
 * choices (criteria, scopes, sensitivity, search, QAT) and on a cluster.
 */
public final class Compressor {
    private static final double TOLERANCE = 0.02;
    private static final int HISTOGRAM_BINS = 2048;

    private final ComputationGraph net;
    private final ImageShape input;

    private Compressor(ComputationGraph net, ImageShape input) {
        this.net = net;
        this.input = input;
    }

    /** @param input the shape of the images {@code net} takes */
    public static Compressor of(ComputationGraph net, ImageShape input) {
        return new Compressor(net, input);
    }

    public ComputationGraph network() {
        return net;
    }

    /**
     * Removes the same fraction of filters (those of least L1 norm) from every prunable channel group
     * (residual sums and concatenations kept consistent), the fraction chosen so that the network's
     * MACs fall by {@code macReduction}, within 2 points or as close as the channel counts allow.
     */
    public Compressor pruneUniformly(double macReduction) {
        ChannelGraph graph = ChannelGraph.of(net);
        PlanBuilder builder = new PlanBuilder(graph, Importance.score(net, graph, Criterion.L1_NORM,
                Importance.Combine.MEAN), PruningScope.ALL, Criterion.L1_NORM.configName());
        ToLongFunction<PruningPlan> macs = plan -> ModelCost.of(Pruner.prunedConfiguration(net, plan), input, 0).macs();
        PruningPlan plan = new RatioSolver(builder, macs).uniform(macReduction, TOLERANCE).plan();
        return new Compressor(Pruner.apply(net, plan), input);
    }

    /**
     * Post-training quantization: int8 weights (per output channel) and activations, batch norms folded
     * into their convolutions, each activation range calibrated on {@code calibrationImages} (a batch
     * of normalized images, {@code [n, c, h, w]}) by the mean squared error of its quantization.
     */
    public Compressor quantize(INDArray calibrationImages) {
        ComputationGraph quantized = FakeQuantization.insert(net, QuantizationConfig.DEFAULT);
        ActivationStatistics stats = new ActivationStatistics(RangeFreezing.tensors(quantized), HISTOGRAM_BINS);
        stats.observe(FakeQuantization.strip(quantized), calibrationImages);
        RangeFreezing.calibrate(quantized, stats, Calibration.MSE, Double.NaN);
        return new Compressor(quantized, input);
    }

    /** The network as an ONNX model: int8 after {@link #quantize}, float otherwise. */
    public byte[] onnx() {
        return FakeQuantization.isQuantized(net) ? Int8OnnxExporter.export(net, input) : OnnxExporter.export(net, input);
    }
}
