package org.sparkslim.compression.latency;

import java.util.List;
import java.util.Map;
import onnx.Onnx;

/**
 * One unit of a network's latency: a main operation (a convolution, a matrix product, a pooling, an
 * addition, their int8 forms, a quantization) with the element-wise operations that follow it alone
 * (batch norm, activation), as ONNX Runtime fuses and runs them together. Its key names the operations,
 * their attributes and the shapes and element types they read, not the weights' values, so equal units
 * of different networks share a row of the {@link LatencyTable}.
 *
 * @param key     the canonical description, the batch dimension written {@code N}
 * @param summary a short description for people ({@code Conv 3x3/1 g1 16->32 @28x28 +BatchNormalization+Relu})
 * @param nodes   the unit's ONNX nodes, in order
 * @param inputs  the unit's activation inputs (not weights)
 * @param output  the name of the unit's output tensor
 * @param outputType its {@link Onnx.TensorProto.DataType} number
 */
public record OpUnit(String key, String summary, List<Onnx.NodeProto> nodes, Map<String, Input> inputs,
                     String output, int outputType) implements TimedUnit {

    /**
     * An activation a unit reads.
     *
     * @param shape       its shape at batch 1
     * @param elementType its {@link Onnx.TensorProto.DataType} number: float, or uint8 or int8 between int8 operators
     */
    public record Input(long[] shape, int elementType) {
        /** A float activation of {@code shape}. */
        public static Input floats(long[] shape) {
            return new Input(shape, Onnx.TensorProto.DataType.FLOAT.getNumber());
        }

        /** Whether it is an [n, c, h, w] feature map. */
        public boolean isFeatureMap() {
            return shape.length == 4;
        }

        public boolean isFloat() {
            return elementType == Onnx.TensorProto.DataType.FLOAT.getNumber();
        }
    }
}
