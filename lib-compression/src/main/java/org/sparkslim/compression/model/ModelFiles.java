package org.sparkslim.compression.model;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

/**
 * Networks as bytes (the DL4J model zip, without updater state) and their content hash. Where the
 * bytes go (a local file, HDFS, a Spark broadcast) is the caller's business.
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    public static byte[] toBytes(ComputationGraph net) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
        try {
            ModelSerializer.writeModel(net, out, false);
            return withFixedTimes(out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialize the network", e);
        }
    }

    /** Zip entries' modification time: fixed, so that equal networks give equal bytes (and hashes). */
    private static final long ENTRY_TIME = 946_684_800_000L;

    /** The same zip with every entry's time set to {@link #ENTRY_TIME} (DL4J stamps the time of writing). */
    private static byte[] withFixedTimes(byte[] zip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(zip.length);
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip));
             ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                ZipEntry copy = new ZipEntry(e.getName());
                copy.setTime(ENTRY_TIME);
                out.putNextEntry(copy);
                in.transferTo(out);
                out.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** @param origin where the bytes came from, for the error message */
    public static ComputationGraph fromBytes(byte[] bytes, String origin) {
        try {
            return ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes), false);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(
                    origin + ": not a readable DL4J ComputationGraph model (" + e.getMessage() + ")", e);
        }
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
