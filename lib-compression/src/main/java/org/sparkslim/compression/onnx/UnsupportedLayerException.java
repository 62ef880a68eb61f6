package org.sparkslim.compression.onnx;

/** A vertex the ONNX exporter has no conversion for; names the vertex, what it is, and what converts. */
public class UnsupportedLayerException extends IllegalArgumentException {
    static final String CONVERTED = "convolutions (plain, depthwise), batch norm, ReLU/ReLU6/leaky ReLU/sigmoid/"
            + "identity/softmax activations, max and average pooling (truncate mode), global average pooling, dense and "
            + "output layers, additions, concatenations";

    /** @param what the vertex's type, or what about it cannot be converted */
    public UnsupportedLayerException(String vertex, String what) {
        super("cannot export vertex '" + vertex + "' (" + what + ") to ONNX: the exporter converts " + CONVERTED);
    }
}
