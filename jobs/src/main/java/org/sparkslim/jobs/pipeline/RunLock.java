package org.sparkslim.jobs.pipeline;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.jobs.config.ConfigException;

/**
 * One run at a time in a run directory: {@code <run>/.lock}, created only if absent, names its holder
 * (host, process id, start time), and the holder touches it every {@link #HEARTBEAT} while it runs. A
 * second run refuses at once and names the holder. A lock is stale, and taken over with a warning, when
 * its holder is a dead process on this host, or, on any host, when it has not been touched for
 * {@link #STALE_AFTER} (a holder on another host cannot be asked whether it is alive).
 */
public final class RunLock implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunLock.class);
    static final String FILE = ".lock";
    static final Duration HEARTBEAT = Duration.ofSeconds(30);
    /** Long enough for clock differences between hosts and a slow file system, short enough for a nightly job. */
    static final Duration STALE_AFTER = Duration.ofMinutes(10);

    private final FileSystem fs;
    private final Path file;
    private final ScheduledExecutorService heartbeat;

    private RunLock(FileSystem fs, Path file, Duration interval) {
        this.fs = fs;
        this.file = file;
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "run-lock-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeat.scheduleWithFixedDelay(this::touch, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Takes the lock of {@code root}, or refuses with a {@link ConfigException} naming its holder. */
    public static RunLock take(FileSystem fs, Path root) throws IOException {
        return take(fs, root, HEARTBEAT, STALE_AFTER);
    }

    static RunLock take(FileSystem fs, Path root, Duration heartbeat, Duration staleAfter) throws IOException {
        Path file = new Path(root, FILE);
        Properties me = holder(ProcessHandle.current().pid());
        for (int attempt = 0; attempt < 2; attempt++) {
            if (create(fs, file, me)) {
                return new RunLock(fs, file, heartbeat);
            }
            Properties holder = read(fs, file);
            if (holder == null) {
                continue; // released between our attempt and the read
            }
            String stale = staleness(holder, idle(fs, file), staleAfter);
            if (stale == null) {
                throw new ConfigException("run directory " + root + " is in use by " + describe(holder)
                        + "; wait for that run to end (its lock is taken over once untouched for " + staleAfter.toMinutes()
                        + " min), or, if it is no longer running, delete " + file);
            }
            LOG.warn("taking over the lock of {}: {} {}", root, describe(holder), stale);
            fs.delete(file, false);
        }
        throw new IOException("cannot take the lock " + file);
    }

    /** Marks the lock as held by a live run; a missed beat is retried at the next one. */
    private void touch() {
        try {
            fs.setTimes(file, System.currentTimeMillis(), -1);
        } catch (IOException e) {
            LOG.warn("cannot refresh the lock {}: {}", file, e.toString());
        }
    }

    @Override
    public void close() {
        heartbeat.shutdownNow();
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
                Files.write(local.pathToFile(file).toPath(), text.toByteArray(), StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.WRITE);
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

    /** How long ago the lock file was last touched, or zero when it is gone. */
    private static Duration idle(FileSystem fs, Path file) throws IOException {
        try {
            long modified = fs.getFileStatus(file).getModificationTime();
            return Duration.ofMillis(Math.max(0, System.currentTimeMillis() - modified));
        } catch (java.io.FileNotFoundException e) {
            return Duration.ZERO;
        }
    }

    /** Why a lock's holder is no longer running, or null when it may be. */
    static String staleness(Properties holder, Duration idle, Duration staleAfter) throws IOException {
        if (idle.compareTo(staleAfter) > 0) {
            return "has not touched it for " + idle.toMinutes() + " min";
        }
        if (!InetAddress.getLocalHost().getHostName().equals(holder.getProperty("host"))) {
            return null;
        }
        try {
            boolean alive = ProcessHandle.of(Long.parseLong(holder.getProperty("pid", "-1"))).map(ProcessHandle::isAlive)
                    .orElse(false);
            return alive ? null : "is no longer running";
        } catch (NumberFormatException e) {
            return "is not a process id";
        }
    }

    private static String describe(Properties holder) {
        return "the run of process " + holder.getProperty("pid") + " on " + holder.getProperty("host") + " (since "
                + holder.getProperty("since") + ")";
    }
}
