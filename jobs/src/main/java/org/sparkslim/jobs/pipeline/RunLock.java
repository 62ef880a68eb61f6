package org.sparkslim.jobs.pipeline;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.time.Instant;
import java.util.Properties;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.jobs.config.ConfigException;

/**
 * One run at a time in a run directory: {@code <run>/.lock}, created only if absent, names its holder
 * (host, process id, start time). A second run refuses at once and names the holder; a lock whose
 * holder is a dead process on this host is stale and taken over with a warning. A holder on another
 * host cannot be checked from here: the message says which file to delete once it is known to be gone.
 */
public final class RunLock implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunLock.class);
    static final String FILE = ".lock";

    private final FileSystem fs;
    private final Path file;

    private RunLock(FileSystem fs, Path file) {
        this.fs = fs;
        this.file = file;
    }

    /** Takes the lock of {@code root}, or refuses with a {@link ConfigException} naming its holder. */
    public static RunLock take(FileSystem fs, Path root) throws IOException {
        Path file = new Path(root, FILE);
        Properties me = holder(ProcessHandle.current().pid());
        for (int attempt = 0; attempt < 2; attempt++) {
            if (create(fs, file, me)) {
                return new RunLock(fs, file);
            }
            Properties holder = read(fs, file);
            if (holder == null) {
                continue; // released between our attempt and the read
            }
            if (!isStale(holder)) {
                throw new ConfigException("run directory " + root + " is in use by " + describe(holder)
                        + "; wait for that run to end, or, if it is no longer running, delete " + file);
            }
            LOG.warn("taking over the lock of {}: {} is no longer running", root, describe(holder));
            fs.delete(file, false);
        }
        throw new IOException("cannot take the lock " + file);
    }

    @Override
    public void close() {
        try {
            fs.delete(file, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release the lock " + file, e);
        }
    }

    static Properties holder(long pid) throws IOException {
        Properties p = new Properties();
        p.setProperty("host", InetAddress.getLocalHost().getHostName());
        p.setProperty("pid", Long.toString(pid));
        p.setProperty("since", Instant.now().toString());
        return p;
    }

    /** Creates the lock file only if it does not exist (atomically on a local disk and on HDFS). */
    static boolean create(FileSystem fs, Path file, Properties holder) throws IOException {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        holder.store(text, "SparkSlim run lock: the run holding this run directory");
        if (fs instanceof LocalFileSystem local) {
            try {
                Files.write(local.pathToFile(file).toPath(), text.toByteArray(), java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE);
                return true;
            } catch (FileAlreadyExistsException e) {
                return false;
            }
        }
        try (OutputStream out = fs.create(file, false)) {
            out.write(text.toByteArray());
            return true;
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            return false;
        }
    }

    private static Properties read(FileSystem fs, Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            Properties p = new Properties();
            p.load(in);
            return p;
        } catch (java.io.FileNotFoundException e) {
            return null;
        }
    }

    /** A holder on this host whose process has ended. */
    static boolean isStale(Properties holder) throws IOException {
        String host = InetAddress.getLocalHost().getHostName();
        if (!host.equals(holder.getProperty("host"))) {
            return false;
        }
        try {
            return ProcessHandle.of(Long.parseLong(holder.getProperty("pid", "-1"))).map(h -> !h.isAlive()).orElse(true);
        } catch (NumberFormatException e) {
            return true;
        }
    }

    private static String describe(Properties holder) {
        return "the run of process " + holder.getProperty("pid") + " on " + holder.getProperty("host") + " (since "
                + holder.getProperty("since") + ")";
    }
}
