package org.sparkslim.compression.quant;

import java.util.Collection;
import org.nd4j.shade.jackson.annotation.JsonProperty;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.NoParamLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A layer that fake-quantizes the tensor passing through it onto an {@link ActivationGrid}: the
 * forward pass rounds to the grid, the backward pass lets the gradient through unchanged inside the
 * range and stops it where values were clipped (the straight-through estimator).
 *
 * <p>The learned range lives in this configuration object on purpose: it is then saved and loaded
 * with the model file (DL4J writes layer configurations as JSON), copied by {@code clone()}, and read
 * by the exporter, with no extra parameter that the optimizer or weight decay would touch.
 */
public class FakeQuantize extends NoParamLayer {
    @JsonProperty
    private int bits = 8;
    @JsonProperty
    private boolean signed = true;
    @JsonProperty
    private ActivationRange rangeSource = ActivationRange.MOVING_AVERAGE_ABS_MAX;
    @JsonProperty
    private double rate = 0.9;
    @JsonProperty
    private int window = 100;
    /** The current range (abs max); 0 until the first batch is seen. */
    @JsonProperty
    private double range;
    /** A frozen quantizer always uses {@link #range} and never updates it. */
    @JsonProperty
    private boolean frozen;

    public FakeQuantize() {
        // for JSON
    }

    public FakeQuantize(ActivationGrid grid, ActivationRange rangeSource, double rate, int window) {
        this.bits = grid.bits();
        this.signed = grid.signed();
        this.rangeSource = rangeSource;
        this.rate = rate;
        this.window = window;
    }

    public ActivationGrid grid() {
        return new ActivationGrid(bits, signed);
    }

    public ActivationRange rangeSource() {
        return rangeSource;
    }

    public double rate() {
        return rate;
    }

    public int window() {
        return window;
    }

    public double range() {
        return range;
    }

    public boolean frozen() {
        return frozen;
    }

    void learnRange(double value) {
        this.range = value;
    }

    /** Fixes the range: from now on training and inference both use it. */
    public void freeze(double fixedRange) {
        this.range = fixedRange;
        this.frozen = true;
    }

    /** The scale of the int8 model ({@code range / levels}). */
    public double scale() {
        return grid().scale(range);
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners,
                                                       int index, INDArray params, boolean initialize, DataType dataType) {
        FakeQuantizeLayer layer = new FakeQuantizeLayer(conf, dataType);
        layer.setListeners(listeners);
        layer.setIndex(index);
        layer.setParamsViewArray(params);
        layer.setParamTable(initializer().init(conf, params, initialize));
        layer.setConf(conf);
        return layer;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return inputType;
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        return new LayerMemoryReport.Builder(layerName, FakeQuantize.class, inputType, inputType)
                .standardMemory(0, 0)
                .workingMemory(0, 0, 0, inputType.arrayElementsPerExample())
                .cacheMemory(0, 0)
                .build();
    }

    @Override
    public FakeQuantize clone() {
        return (FakeQuantize) super.clone();
    }

    @Override
    public String toString() {
        return "FakeQuantize(" + grid() + ", " + (frozen ? "frozen" : rangeSource.configName()) + ", range " + range + ")";
    }
}
