package org.sparkslim.compression.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class QuantizationMathTest {
    @Test
    void symmetricInt8() {
        assertEquals(127, Int8.qmax(8));
        double s = Int8.scale(2.54, 8);
        assertEquals(0.02, s, 1e-12);
        assertEquals(127, Int8.quantize(5.0, s, 8), "clipped");
        assertEquals(-50, Int8.quantize(-1.0, s, 8));
        assertEquals(0.34, Int8.fakeQuantize(0.3412, s, 8), 1e-12);
    }

    @Test
    void channelWiseScalesFollowEachFilter() {
        double[][] w = {{0.5, -1.27}, {0.0127, 0.001}};
        assertArrayEquals(new double[] {0.01, 0.01}, WeightQuantizer.ABS_MAX.scales(w, 8), 1e-12);
        assertArrayEquals(new double[] {0.01, 0.0001}, WeightQuantizer.CHANNEL_WISE_ABS_MAX.scales(w, 8), 1e-12);
    }

    /** Mostly small values plus rare large outliers, as post-ReLU activations often are. */
    static Histogram outliers(long seed) {
        Random r = new Random(seed);
        Histogram h = new Histogram(2048);
        for (int batch = 0; batch < 20; batch++) {
            float[] v = new float[5000];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.abs(r.nextGaussian());
            }
            v[0] = 40f + batch; // outliers, growing: the histogram widens as they arrive
            h.add(v);
        }
        return h;
    }

    @Test
    void histogramWidensAndMerges() {
        Histogram h = outliers(1);
        assertEquals(100_000, h.count());
        assertEquals(59, h.absMax(), 1e-6);
        assertTrue(h.max() >= h.absMax());
        Histogram a = outliers(2);
        a.merge(outliers(3));
        assertEquals(200_000, a.count());
    }

    @Test
    void clippingCalibratorsIgnoreOutliers() {
        Histogram h = outliers(4);
        double absMax = Calibration.ABS_MAX.range(h, 8, 0);
        // 20 outliers in 100,000 values are 0.02%: the 99.9th percentile lies in the Gaussian part
        double pct = Calibration.PERCENTILE.range(h, 8, 0.999);
        double kl = Calibration.KL.range(h, 8, 0);
        double mse = Calibration.MSE.range(h, 8, 0);
        assertEquals(59, absMax, 1e-6);
        // |N(0,1)| has 99.9% of its mass below ~3.3
        assertTrue(pct > 2.8 && pct < 3.8, "percentile " + pct);
        assertTrue(kl < absMax / 3 && kl > 2, "kl " + kl);
        // 20 outliers of ~50 cost more squared error clipped than coarse steps do: MSE keeps them
        assertTrue(mse > absMax / 2, "mse " + mse);
    }

    @Test
    void mseClipsARareOutlier() {
        Random r = new Random(5);
        Histogram h = new Histogram(2048);
        for (int batch = 0; batch < 80; batch++) {
            float[] v = new float[5000];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.abs(r.nextGaussian());
            }
            if (batch == 0) {
                v[0] = 60f;
            }
            h.add(v);
        }
        double mse = Calibration.MSE.range(h, 8, 0);
        assertTrue(mse < 20 && mse > 2, "one outlier in 400,000 values is cheaper clipped: " + mse);
    }
}
