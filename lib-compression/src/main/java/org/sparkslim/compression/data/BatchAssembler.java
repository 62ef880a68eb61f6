package org.sparkslim.compression.data;

import java.io.Serializable;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Turns raw images (one unsigned byte per value) and labels into a normalized, optionally augmented
 * DL4J {@link DataSet}: features {@code [n, c, h, w]}, one-hot labels {@code [n, classes]}.
 */
public final class BatchAssembler implements Serializable {
    private final ImageShape shape;
    private final int numClasses;
    private final Normalization normalization;
    private final float[] lookup;

    public BatchAssembler(ImageShape shape, int numClasses, Normalization normalization) {
        this.shape = shape;
        this.numClasses = numClasses;
        this.normalization = normalization;
        this.lookup = normalization.table(shape.channels());
    }

    public ImageShape shape() {
        return shape;
    }

    public int numClasses() {
        return numClasses;
    }

    public Normalization normalization() {
        return normalization;
    }

    /** Features only, no augmentation: for inference. */
    public INDArray features(List<byte[]> images) {
        float[] data = new float[images.size() * shape.pixels()];
        for (int i = 0; i < images.size(); i++) {
            Augmentation.NONE.apply(checked(images.get(i), i), shape, lookup, null, data, i * shape.pixels());
        }
        return Nd4j.create(data, new long[] {images.size(), shape.channels(), shape.height(), shape.width()}, 'c');
    }

    /** Features and one-hot labels; {@code random} drives the augmentation and may be null for none. */
    public DataSet dataSet(List<byte[]> images, int[] labels, Augmentation augmentation, Random random) {
        int n = images.size();
        float[] data = new float[n * shape.pixels()];
        float[] oneHot = new float[n * numClasses];
        for (int i = 0; i < n; i++) {
            augmentation.apply(checked(images.get(i), i), shape, lookup, random, data, i * shape.pixels());
            int label = labels[i];
            if (label < 0 || label >= numClasses) {
                throw new InvalidDataException("label " + label + " is out of range for " + numClasses + " classes");
            }
            oneHot[i * numClasses + label] = 1f;
        }
        INDArray features = Nd4j.create(data, new long[] {n, shape.channels(), shape.height(), shape.width()}, 'c');
        INDArray targets = Nd4j.create(oneHot, new long[] {n, numClasses}, 'c');
        return new DataSet(features, targets);
    }

    private byte[] checked(byte[] image, int index) {
        if (image.length != shape.pixels()) {
            throw new InvalidDataException("image " + index + " of the batch has " + image.length
                    + " values, expected " + shape.pixels() + " for shape " + shape);
        }
        return image;
    }
}
