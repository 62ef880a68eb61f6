package org.sparkslim.compression.latency;

import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.train.LatencyMeter;

/**
 * Latency in DL4J on this machine, by units ({@link Dl4jUnits}): each vertex timed in a network of its
 * own with a trail after it, less the trail alone, and a network's estimate as the cost of a call (a
 * network of one identity activation) plus its units'. DL4J runs each vertex on its own, converting
 * layouts inside a layer's oneDNN call, so no layout conversion is shared across vertices. Times are
 * medians over the timed calls after warm-up, with a fixed number of native threads.
 */
public final class Dl4jLatency {
    /** The engine's name in latency tables. */
    public static final String ENGINE = "dl4j";

    private final LatencyMeter meter;

    public Dl4jLatency(int warmup, int runs, int threads) {
        this.meter = new LatencyMeter(warmup, runs, threads);
    }

    /** Median milliseconds of one call of {@code net} at {@code batch}, on random inputs of these shapes at batch 1. */
    public double millis(ComputationGraph net, List<long[]> inputs, int batch) {
        INDArray[] feed = new INDArray[inputs.size()];
        Nd4j.getRandom().setSeed(batch);
        for (int i = 0; i < feed.length; i++) {
            long[] shape = inputs.get(i).clone();
            shape[0] = batch;
            feed[i] = Nd4j.rand(DataType.FLOAT, shape);
        }
        return meter.medianMillis(List.of(net), feed)[0];
    }

    /** Median milliseconds of one call of {@code net} on images of {@code shape}. */
    public double millis(ComputationGraph net, ImageShape shape, int batch) {
        return millis(net, List.of(new long[] {1, shape.channels(), shape.height(), shape.width()}), batch);
    }

    /**
     * What {@code unit} of {@code net} adds to a call: its vertex followed by a trail, less the trail
     * alone ({@link Dl4jUnits#trailOf}), at least zero.
     */
    public double unitMillis(Dl4jUnit unit, ComputationGraph net, int batch) {
        return Math.max(0, millis(Dl4jUnits.networkOf(unit, net, true), unit.inputs(), batch)
                - millis(Dl4jUnits.trailOf(unit), List.of(unit.output()), batch));
    }

    /** A network of one identity activation on a one-element-per-example input: what any call costs. */
    public double callMillis(int batch) {
        ComputationGraph call = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .graphBuilder().addInputs("x")
                .addLayer("id", new ActivationLayer.Builder().activation(Activation.IDENTITY).build(), "x")
                .setOutputs("id").build());
        call.init();
        return millis(call, List.of(new long[] {1, 1}), batch);
    }

    /**
     * {@code net}'s estimate at {@code batch} from {@code table} (engine {@link #ENGINE}), timing first
     * the units (and the call) the table lacks.
     */
    public LatencyTable.Estimated estimate(LatencyTable table, ComputationGraph net, ImageShape shape, int batch) {
        return table.estimate(Dl4jUnits.of(net, shape), batch, this::callMillis, (unit, b) -> unitMillis(unit, net, b));
    }
}
