package org.sparkslim.compression.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class QuantizationMathTest {
    private static final ActivationGrid GRID = new ActivationGrid(8, true);

    @Test
    void symmetricInt8() {
        assertEquals(127, Int8.qmax(8));
        assertEquals(7, Int8.qmax(4));
    }

    @Test
    void channelWiseScalesFollowEachFilter() {
        // dense weights [in, out]: output channel c is column c
        INDArray w = Nd4j.createFromArray(new double[][] {{0.5, 0.0127}, {-1.27, 0.001}});
        assertArrayEquals(new double[] {0.01, 0.01}, WeightQuantizer.ABS_MAX.scales(w, 1, 8).toDoubleVector(), 1e-12);
        assertArrayEquals(new double[] {0.01, 0.0001}, WeightQuantizer.CHANNEL_WISE_ABS_MAX.scales(w, 1, 8).toDoubleVector(), 1e-12);
        assertArrayEquals(new double[] {50, 127, -127, 10},
                WeightQuantizer.CHANNEL_WISE_ABS_MAX.integers(w, 1, 8).reshape(4).toDoubleVector(), 1e-12);
        // a small filter is crushed to zero by a per-tensor scale
        assertEquals(0, WeightQuantizer.ABS_MAX.fakeQuantize(w, 1, 8).getDouble(1, 1), 0);
    }

    @Test
    void activationGrids() {
        ActivationGrid unsigned = new ActivationGrid(8, false);
        assertEquals(255, unsigned.levels());
        assertEquals(0, unsigned.zeroPoint());
        assertEquals(0.0, unsigned.fakeQuantize(-1, unsigned.scale(2.55)), 0, "clamping at zero is the ReLU");
        assertEquals(128, GRID.zeroPoint());
        assertEquals(-1.28, GRID.fakeQuantize(-5, GRID.scale(1.27)), 1e-12);
        assertEquals(1.27, GRID.fakeQuantize(5, GRID.scale(1.27)), 1e-12);
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
        double absMax = Calibration.ABS_MAX.range(h, GRID, 0);
        // 20 outliers in 100,000 values are 0.02%: the 99.9th percentile lies in the Gaussian part
        double pct = Calibration.PERCENTILE.range(h, GRID, 0.999);
        double kl = Calibration.KL.range(h, GRID, 0);
        double mse = Calibration.MSE.range(h, GRID, 0);
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
        double mse = Calibration.MSE.range(h, GRID, 0);
        assertTrue(mse < 20 && mse > 2, "one outlier in 400,000 values is cheaper clipped: " + mse);
    }
}
