package org.sparkslim.compression.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
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
        assertEquals(Normalization.FASHION_MNIST.apply(1), assembler.features(List.of(ramp())).getFloat(0, 0, 0, 0), 1e-6);
    }
}
