package org.sparkslim.compression.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

class AugmentationTest {
    static final ImageShape SHAPE = new ImageShape(1, 4, 4);
    static final float[] IDENTITY = new float[256];

    static {
        for (int i = 0; i < 256; i++) {
            IDENTITY[i] = i;
        }
    }

    static byte[] ramp() {
        byte[] image = new byte[16];
        for (int i = 0; i < 16; i++) {
            image[i] = (byte) (i + 1);
        }
        return image;
    }

    @Test
    void noneCopiesTheImage() {
        float[] out = new float[16];
        Augmentation.NONE.apply(ramp(), SHAPE, IDENTITY, new Random(1), out, 0);
        for (int i = 0; i < 16; i++) {
            assertEquals(i + 1, out[i]);
        }
    }

    @Test
    void flipMirrorsEachRow() {
        float[] out = new float[16];
        new Augmentation(0, 1.0).apply(ramp(), SHAPE, IDENTITY, new Random(1), out, 0);
        assertArrayEquals(new float[] {4, 3, 2, 1}, java.util.Arrays.copyOfRange(out, 0, 4));
    }

    @Test
    void cropShiftsWithinThePaddingAndFillsWithZero() {
        Set<String> seen = new HashSet<>();
        Random random = new Random(7);
        for (int trial = 0; trial < 200; trial++) {
            float[] out = new float[16];
            new Augmentation(1, 0).apply(ramp(), SHAPE, IDENTITY, random, out, 0);
            int zeros = 0;
            for (float v : out) {
                zeros += v == 0 ? 1 : 0;
            }
            assertTrue(zeros == 0 || zeros == 4 || zeros == 7, "a 1-pixel shift uncovers a row, a column or both");
            seen.add(java.util.Arrays.toString(out));
        }
        assertEquals(9, seen.size(), "3 x 3 offsets, all reachable");
    }

    @Test
    void sameSeedSameBatch() {
        BatchAssembler assembler = new BatchAssembler(SHAPE, 10, Normalization.FASHION_MNIST);
        List<byte[]> images = List.of(ramp(), ramp(), ramp());
        int[] labels = {1, 2, 3};
        DataSet a = assembler.dataSet(images, labels, Augmentation.CROP_AND_FLIP, new Random(3));
        DataSet b = assembler.dataSet(images, labels, Augmentation.CROP_AND_FLIP, new Random(3));
        assertEquals(a.getFeatures(), b.getFeatures());
        assertEquals(1f, a.getLabels().getFloat(2, 3));
        assertEquals(Normalization.FASHION_MNIST.apply(1, 0), assembler.features(List.of(ramp())).getFloat(0, 0, 0, 0), 1e-6);
    }

    @Test
    void eachChannelHasItsOwnNormalization() {
        ImageShape rgb = new ImageShape(3, 2, 2);
        Normalization perChannel = new Normalization(new double[] {0.1, 0.5, 0.9}, new double[] {0.2, 0.25, 0.5});
        byte[] image = new byte[12];
        java.util.Arrays.fill(image, (byte) 255);
        INDArray x = new BatchAssembler(rgb, 2, perChannel).features(List.of(image));
        assertEquals((1 - 0.1) / 0.2, x.getFloat(0, 0, 1, 1), 1e-5);
        assertEquals((1 - 0.5) / 0.25, x.getFloat(0, 1, 0, 0), 1e-5);
        assertEquals((1 - 0.9) / 0.5, x.getFloat(0, 2, 1, 0), 1e-5);
        // padding by augmentation is each channel's own zero
        float[] out = new float[12];
        new Augmentation(1, 0).apply(image, rgb, perChannel.table(3), new Random(5), out, 0);
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 4; i++) {
                float v = out[c * 4 + i];
                assertTrue(v == perChannel.apply(255, c) || v == perChannel.apply(0, c), "channel " + c + ": " + v);
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new BatchAssembler(new ImageShape(2, 2, 2), 2, perChannel));
        assertTrue(e.getMessage().contains("3 means and deviations for images of 2 channels"), e.getMessage());
    }
}
