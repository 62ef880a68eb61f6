package org.sparkslim.compression.model;

import java.util.Random;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.quant.ActivationStatistics;
import org.sparkslim.compression.quant.Calibration;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.QuantizationConfig;
import org.sparkslim.compression.quant.RangeFreezing;

/** Zoo networks for tests, with batch norms that do something. */
public final class TestNetworks {
    public static final ImageShape FASHION = new ImageShape(1, 28, 28);

    private TestNetworks() {
    }

    /** A reference-width zoo network whose batch norms have random statistics. */
    public static ComputationGraph zoo(String family) {
        ModelFamily f = ModelZoo.family(family);
        return randomizeBatchNorm(f.build(f.spec(f.baseWidths(), FASHION, 10, 5)), 5);
    }

    /**
     * {@code net} fake-quantized by {@code config}, its activation ranges calibrated (absolute maximum)
     * on {@code images}: what the int8 export takes.
     */
    public static ComputationGraph quantized(ComputationGraph net, QuantizationConfig config, INDArray images) {
        ComputationGraph q = FakeQuantization.insert(net, config);
        ActivationStatistics stats = new ActivationStatistics(RangeFreezing.tensors(q), 1024);
        stats.observe(FakeQuantization.strip(q), images);
        RangeFreezing.calibrate(q, stats, Calibration.ABS_MAX, 0);
        return q;
    }

    /** Fresh batch norms are identities; random statistics make equivalence checks meaningful. */
    public static ComputationGraph randomizeBatchNorm(ComputationGraph net, long seed) {
        Random r = new Random(seed);
        for (Layer layer : net.getLayers()) {
            if (layer.conf().getLayer() instanceof BatchNormalization) {
                for (String key : layer.paramTable().keySet()) {
                    INDArray p = layer.getParam(key);
                    float[] v = new float[(int) p.length()];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = switch (key) {
                            case "gamma" -> 0.5f + r.nextFloat();
                            case "log10stdev" -> (r.nextFloat() - 0.5f) * 0.4f;
                            default -> (r.nextFloat() - 0.5f);
                        };
                    }
                    layer.setParam(key, Nd4j.create(v, p.shape()).castTo(p.dataType()));
                }
            }
        }
        return net;
    }
}
