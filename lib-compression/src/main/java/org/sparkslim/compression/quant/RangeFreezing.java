package org.sparkslim.compression.quant;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Fixes every quantizer's range, which is what turns a fake-quantized network into the int8 model:
 * after QAT a learned ({@code moving_average_abs_max}, {@code window_abs_max}) range is kept as it is
 * and a {@code dynamic} quantizer takes the mean batch abs max it sees on calibration data; after
 * post-training calibration the range is the calibrator's choice on the float activations.
 */
public final class RangeFreezing {
    private RangeFreezing() {
    }

    /** The tensors whose statistics freezing needs (the quantizers' inputs). */
    public static List<String> tensors(ComputationGraph fakeQuantized) {
        List<String> tensors = new ArrayList<>();
        FakeQuantization.quantizers(fakeQuantized).keySet()
                .forEach(q -> tensors.add(FakeQuantization.tensorOf(fakeQuantized, q)));
        return tensors;
    }

    /** After QAT: learned ranges stay, dynamic ones take the mean batch abs max of {@code stats}. */
    public static void freezeLearned(ComputationGraph fakeQuantized, ActivationStatistics stats) {
        for (Map.Entry<String, FakeQuantize> e : FakeQuantization.quantizers(fakeQuantized).entrySet()) {
            FakeQuantize q = e.getValue();
            if (q.frozen()) {
                continue;
            }
            boolean learned = q.rangeSource() != ActivationRange.DYNAMIC && q.range() > 0;
            q.freeze(learned ? q.range() : stats.meanBatchMax(FakeQuantization.tensorOf(fakeQuantized, e.getKey())));
        }
    }

    /**
     * Post-training: each range from the calibrator on the tensor's histogram. The network's input
     * keeps its full range: images are bounded and mostly background, so a clipping calibrator would
     * cut the foreground (KL picks the background value itself).
     */
    public static void calibrate(ComputationGraph fakeQuantized, ActivationStatistics stats, Calibration calibration,
                                 double percentile) {
        List<String> networkInputs = fakeQuantized.getConfiguration().getNetworkInputs();
        for (Map.Entry<String, FakeQuantize> e : FakeQuantization.quantizers(fakeQuantized).entrySet()) {
            FakeQuantize q = e.getValue();
            String tensor = FakeQuantization.tensorOf(fakeQuantized, e.getKey());
            Calibration method = networkInputs.contains(tensor) ? Calibration.ABS_MAX : calibration;
            q.freeze(method.range(stats.histogram(tensor), q.grid(), percentile));
        }
    }
}
