package org.sparkslim.compression.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the idx files of (Fashion-)MNIST: gzip-compressed, big-endian, a magic number that gives the
 * element type and rank, then the dimensions, then the data.
 *
 * <p>Every fault names the file: a missing file, a wrong magic number, a truncated or corrupt gzip
 * stream, or fewer bytes than the header promises.
 */
public final class IdxReader {
    /** Unsigned bytes, rank 3: count x rows x columns. */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Unsigned bytes, rank 1: count. */
    public static final int LABELS_MAGIC = 0x00000801;

    private IdxReader() {
    }

    /** Images as one byte per pixel, image after image, row-major. */
    public record Images(Path file, int count, int rows, int columns, byte[] pixels) {
        public ImageShape shape() {
            return new ImageShape(1, rows, columns);
        }

        /** Copies image {@code index} (0-based) into a new array. */
        public byte[] image(int index) {
            int size = rows * columns;
            byte[] copy = new byte[size];
            System.arraycopy(pixels, index * size, copy, 0, size);
            return copy;
        }
    }

    public static Images readImages(Path file) {
        return read(file, IMAGES_MAGIC, "images", in -> {
            int count = in.readInt();
            int rows = in.readInt();
            int columns = in.readInt();
            if (count < 0 || rows <= 0 || columns <= 0) {
                throw new InvalidDataException(
                        file + ": invalid idx image header (count " + count + ", " + rows + "x" + columns + ")");
            }
            byte[] pixels = readBody(in, file, (long) count * rows * columns);
            return new Images(file, count, rows, columns, pixels);
        });
    }

    public static byte[] readLabels(Path file) {
        return read(file, LABELS_MAGIC, "labels", in -> {
            int count = in.readInt();
            if (count < 0) {
                throw new InvalidDataException(file + ": invalid idx label count " + count);
            }
            return readBody(in, file, count);
        });
    }

    /** Reads an image and a label file and checks that they describe the same number of examples. */
    public static LabeledImages readLabeled(Path imageFile, Path labelFile, int numClasses) {
        Images images = readImages(imageFile);
        byte[] labels = readLabels(labelFile);
        if (images.count() != labels.length) {
            throw new InvalidDataException("image/label count mismatch: " + imageFile + " has " + images.count()
                    + " images but " + labelFile + " has " + labels.length + " labels");
        }
        int[] intLabels = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            intLabels[i] = labels[i] & 0xFF;
            if (intLabels[i] >= numClasses) {
                throw new InvalidDataException(labelFile + ": label " + intLabels[i] + " at index " + i
                        + " is out of range for " + numClasses + " classes");
            }
        }
        return new LabeledImages(images.shape(), images.pixels(), intLabels);
    }

    private interface BodyReader<T> {
        T read(DataInputStream in) throws IOException;
    }

    private static <T> T read(Path file, int expectedMagic, String kind, BodyReader<T> body) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidDataException(file + ": idx " + kind + " file not found", new NoSuchFileException(file.toString()));
        }
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new BufferedInputStream(maybeGunzip(raw, file), 1 << 16))) {
            int magic = in.readInt();
            if (magic != expectedMagic) {
                throw new InvalidDataException(String.format("%s: wrong idx magic number 0x%08x, expected 0x%08x for %s",
                        file, magic, expectedMagic, kind));
            }
            return body.read(in);
        } catch (EOFException e) {
            throw new InvalidDataException(file + ": truncated (the file ends before the data its header announces)", e);
        } catch (ZipException e) {
            throw new InvalidDataException(file + ": corrupt gzip stream (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new InvalidDataException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static InputStream maybeGunzip(InputStream raw, Path file) throws IOException {
        return file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
    }

    private static byte[] readBody(DataInputStream in, Path file, long length) throws IOException {
        if (length > Integer.MAX_VALUE - 8) {
            throw new InvalidDataException(file + ": " + length + " bytes of data is more than one array can hold");
        }
        byte[] data = new byte[(int) length];
        in.readFully(data);
        return data;
    }
}
