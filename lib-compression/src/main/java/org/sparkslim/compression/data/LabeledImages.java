package org.sparkslim.compression.data;

/**
 * Images and their labels in memory: one unsigned byte per pixel value, image after image (each
 * image channels first, row-major). Used for idx files and small in-memory sets; pipelines stream
 * Parquet instead.
 */
public record LabeledImages(ImageShape shape, byte[] pixels, int[] labels) implements java.io.Serializable {
    public LabeledImages {
        if ((long) labels.length * shape.pixels() != pixels.length) {
            throw new IllegalArgumentException(labels.length + " labels but " + pixels.length
                    + " pixel values for images of shape " + shape);
        }
    }

    public int size() {
        return labels.length;
    }

    /** Examples {@code [from, to)} as a new value. */
    public LabeledImages slice(int from, int to) {
        if (from < 0 || to > size() || from > to) {
            throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of " + size() + " examples");
        }
        int p = shape.pixels();
        byte[] px = new byte[(to - from) * p];
        System.arraycopy(pixels, from * p, px, 0, px.length);
        int[] lb = new int[to - from];
        System.arraycopy(labels, from, lb, 0, lb.length);
        return new LabeledImages(shape, px, lb);
    }

    public byte[] image(int index) {
        int p = shape.pixels();
        byte[] copy = new byte[p];
        System.arraycopy(pixels, index * p, copy, 0, p);
        return copy;
    }
}
