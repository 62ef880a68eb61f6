package org.sparkslim.compression.model;

import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;

/**
 * What a vertex of a network is, as the compressor sees it. Decided once, here, so that the channel
 * graph, cost counting, surgery, folding, fake quantization and the ONNX exporters agree on which
 * layers they know; each of them handles a kind with one branch of a switch, and names
 * {@link #OTHER_LAYER} and {@link #OTHER_VERTEX} in its own terms when it cannot.
 */
public enum LayerKind {
    /** A plain 2D convolution (exactly {@code ConvolutionLayer}). */
    CONVOLUTION,
    /** A depthwise 2D convolution. */
    DEPTHWISE_CONVOLUTION,
    /** Any other subclass of {@code ConvolutionLayer} (separable, 1D, transposed, ...): known to be unknown. */
    OTHER_CONVOLUTION,
    BATCH_NORM,
    /** An activation of its own ({@code ActivationLayer}); other layers carry their activation inside. */
    ACTIVATION,
    MAX_POOL,
    /** Average (or p-norm) pooling over windows. */
    OTHER_POOL,
    GLOBAL_AVG_POOL,
    /** Global max, sum or p-norm pooling. */
    OTHER_GLOBAL_POOL,
    /** A fully connected layer that is not the output. */
    DENSE,
    /** The network's output layer (fully connected, with its loss). */
    OUTPUT,
    DROPOUT,
    ZERO_PADDING,
    /** An element-wise addition of its inputs (a residual join). */
    ADD,
    /** Element-wise product, subtraction, average, max. */
    OTHER_ELEMENTWISE,
    /** Concatenation along channels ({@code MergeVertex}). */
    CONCAT,
    /** A layer of any other type, such as a custom one (the fake quantizer). */
    OTHER_LAYER,
    /** A vertex of any other type. */
    OTHER_VERTEX;

    public static LayerKind of(GraphVertex vertex) {
        if (vertex instanceof LayerVertex lv) {
            return of(lv.getLayerConf().getLayer());
        }
        if (vertex instanceof ElementWiseVertex ew) {
            return ew.getOp() == ElementWiseVertex.Op.Add ? ADD : OTHER_ELEMENTWISE;
        }
        return vertex instanceof MergeVertex ? CONCAT : OTHER_VERTEX;
    }

    public static LayerKind of(Layer layer) {
        if (layer instanceof DepthwiseConvolution2D) {
            return DEPTHWISE_CONVOLUTION;
        }
        if (layer instanceof ConvolutionLayer) {
            return layer.getClass() == ConvolutionLayer.class ? CONVOLUTION : OTHER_CONVOLUTION;
        }
        if (layer instanceof BatchNormalization) {
            return BATCH_NORM;
        }
        if (layer instanceof ActivationLayer) {
            return ACTIVATION;
        }
        if (layer instanceof SubsamplingLayer pool) {
            return pool.getPoolingType() == PoolingType.MAX ? MAX_POOL : OTHER_POOL;
        }
        if (layer instanceof GlobalPoolingLayer pool) {
            return pool.getPoolingType() == PoolingType.AVG ? GLOBAL_AVG_POOL : OTHER_GLOBAL_POOL;
        }
        if (layer instanceof BaseOutputLayer) {
            return OUTPUT;
        }
        if (layer instanceof DenseLayer) {
            return DENSE;
        }
        if (layer instanceof DropoutLayer) {
            return DROPOUT;
        }
        return layer instanceof ZeroPaddingLayer ? ZERO_PADDING : OTHER_LAYER;
    }

    /** The layer of a layer vertex, or null for any other vertex. */
    public static Layer layerOf(GraphVertex vertex) {
        return vertex instanceof LayerVertex lv ? lv.getLayerConf().getLayer() : null;
    }

    /** A convolution the compressor can count, slice, fold, quantize and export. */
    public boolean isConvolution() {
        return this == CONVOLUTION || this == DEPTHWISE_CONVOLUTION;
    }

    /** A layer with a weight matrix or kernel: what pruning slices and quantization quantizes. */
    public boolean hasWeights() {
        return isConvolution() || this == DENSE || this == OUTPUT;
    }

    /** A fully connected layer, the output included. */
    public boolean isFullyConnected() {
        return this == DENSE || this == OUTPUT;
    }
}
