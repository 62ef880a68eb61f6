package org.sparkslim.compression.model;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialize the network", e);
        }
        return out.toByteArray();
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
