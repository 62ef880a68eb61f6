package org.sparkslim.compression.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {
    @TempDir
    Path dir;

    static byte[] images(int magic, int count, int rows, int cols, int dataBytes) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        out.writeInt(count);
        out.writeInt(rows);
        out.writeInt(cols);
        for (int i = 0; i < dataBytes; i++) {
            out.writeByte(i % 251);
        }
        return bytes.toByteArray();
    }

    static byte[] labels(int magic, int... values) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        out.writeInt(values.length);
        for (int v : values) {
            out.writeByte(v);
        }
        return bytes.toByteArray();
    }

    Path gz(String name, byte[] content) throws IOException {
        Path file = dir.resolve(name);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(content);
        }
        return file;
    }

    @Test
    void readsImagesAndLabels() throws IOException {
        Path img = gz("img.gz", images(IdxReader.IMAGES_MAGIC, 3, 2, 2, 12));
        Path lbl = gz("lbl.gz", labels(IdxReader.LABELS_MAGIC, 0, 9, 4));
        LabeledImages data = IdxReader.readLabeled(img, lbl, 10);
        assertEquals(3, data.size());
        assertEquals(new ImageShape(1, 2, 2), data.shape());
        assertArrayEquals(new int[] {0, 9, 4}, data.labels());
        assertArrayEquals(new byte[] {4, 5, 6, 7}, data.image(1));
    }

    @Test
    void missingFileIsNamed() {
        Path missing = dir.resolve("nope-images.gz");
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> IdxReader.readImages(missing));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void wrongMagicNumberIsReported() throws IOException {
        Path lbl = gz("swapped.gz", labels(IdxReader.LABELS_MAGIC, 1, 2));
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> IdxReader.readImages(lbl));
        assertTrue(e.getMessage().contains("swapped.gz") && e.getMessage().contains("magic number 0x00000801"), e.getMessage());
    }

    @Test
    void imageLabelCountMismatchNamesBothFiles() throws IOException {
        Path img = gz("img.gz", images(IdxReader.IMAGES_MAGIC, 3, 2, 2, 12));
        Path lbl = gz("lbl.gz", labels(IdxReader.LABELS_MAGIC, 1, 2));
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> IdxReader.readLabeled(img, lbl, 10));
        assertTrue(e.getMessage().contains("img.gz") && e.getMessage().contains("lbl.gz")
                && e.getMessage().contains("3 images") && e.getMessage().contains("2 labels"), e.getMessage());
    }

    @Test
    void truncatedGzipIsReported() throws IOException {
        Path whole = gz("whole.gz", images(IdxReader.IMAGES_MAGIC, 50, 28, 28, 50 * 784));
        byte[] bytes = Files.readAllBytes(whole);
        Path cut = dir.resolve("cut.gz");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> IdxReader.readImages(cut));
        assertTrue(e.getMessage().contains("cut.gz") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void headerPromisingMoreThanTheFileHoldsIsTruncation() throws IOException {
        Path short_ = gz("short.gz", images(IdxReader.IMAGES_MAGIC, 10, 2, 2, 12));
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> IdxReader.readImages(short_));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void corruptGzipIsReported() throws IOException {
        Path bad = dir.resolve("bad.gz");
        Files.write(bad, new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7});
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> IdxReader.readImages(bad));
        assertTrue(e.getMessage().contains("bad.gz"), e.getMessage());
    }

    @Test
    void labelsOutOfRangeAreReportedWithTheirIndex() throws IOException {
        Path img = gz("img.gz", images(IdxReader.IMAGES_MAGIC, 3, 2, 2, 12));
        Path lbl = gz("lbl.gz", labels(IdxReader.LABELS_MAGIC, 1, 12, 2));
        InvalidDataException e = assertThrows(InvalidDataException.class, () -> IdxReader.readLabeled(img, lbl, 10));
        assertTrue(e.getMessage().contains("label 12 at index 1") && e.getMessage().contains("lbl.gz"), e.getMessage());
    }
}
