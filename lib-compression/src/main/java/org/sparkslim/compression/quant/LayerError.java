package org.sparkslim.compression.quant;

import java.io.Serializable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * How far a quantized layer's output is from the float network's, accumulated over batches: SQNR
 * ({@code 10 log10(sum f^2 / sum (f - q)^2)}, in dB) and cosine similarity. Mergeable.
 */
public record LayerError(String layer, double signal, double noise, double dot, double quantizedNorm2, long values)
        implements Serializable {

    public static LayerError of(String layer, INDArray reference, INDArray quantized) {
        INDArray f = reference.castTo(DataType.DOUBLE);
        INDArray q = quantized.castTo(DataType.DOUBLE);
        double signal = f.mul(f).sumNumber().doubleValue();
        INDArray d = f.sub(q);
        return new LayerError(layer, signal, d.mul(d).sumNumber().doubleValue(), f.mul(q).sumNumber().doubleValue(),
                q.mul(q).sumNumber().doubleValue(), f.length());
    }

    public LayerError merge(LayerError other) {
        return new LayerError(layer, signal + other.signal, noise + other.noise, dot + other.dot,
                quantizedNorm2 + other.quantizedNorm2, values + other.values);
    }

    public double sqnrDb() {
        return noise == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
    }

    public double cosine() {
        return signal == 0 || quantizedNorm2 == 0 ? 0 : dot / Math.sqrt(signal * quantizedNorm2);
    }
}
