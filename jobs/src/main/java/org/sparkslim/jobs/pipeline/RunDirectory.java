package org.sparkslim.jobs.pipeline;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.sparkslim.jobs.config.ConfigException;

/**
 * The directory of one run, on any Hadoop file system. Stages write into
 * {@code .tmp/<stage>-<nonce>/}; {@link #commit} moves a finished one to {@code <stage>/} and then
 * writes {@code _SUCCESS} (with the signature) last. A directory without {@code _SUCCESS} is never
 * read, so a run killed at any point leaves either the old complete checkpoint or none.
 */
public final class RunDirectory {
    public static final String SUCCESS = "_SUCCESS";
    private static final String TMP = ".tmp";
    private static final String RESUME = ".resume";
    /** Marker keys that record a committed file's size. */
    private static final String FILE_PREFIX = "file.";

    private final FileSystem fs;
    private final Path root;

    private RunDirectory(FileSystem fs, Path root) {
        this.fs = fs;
        this.root = root;
    }

    public static RunDirectory open(String location, Configuration hadoop) {
        try {
            Path path = new Path(location);
            FileSystem fs = path.getFileSystem(hadoop);
            Path root = fs.makeQualified(path);
            if (!fs.mkdirs(root) || !fs.getFileStatus(root).isDirectory()) {
                throw new ConfigException("run.dir: cannot create the run directory " + root);
            }
            return new RunDirectory(fs, root);
        } catch (IOException e) {
            // a path the user named that cannot be written (permissions, a file in the way, no such host)
            throw new ConfigException("run.dir: cannot open the run directory " + location + ": " + e.getMessage(), e);
        }
    }

    public Path root() {
        return root;
    }

    public FileSystem fileSystem() {
        return fs;
    }

    /**
     * A stage's checkpoint directory: this run's stage of that name, or, when the name is a path
     * ({@link #isOtherRun}), that directory, a stage checkpoint of another run on the same file system.
     */
    public Path stage(String name) {
        return isOtherRun(name) ? fs.makeQualified(new Path(name)) : new Path(root, name);
    }

    /** A stage name that is a path (it contains '/') names another run's checkpoint. */
    public static boolean isOtherRun(String stageName) {
        return stageName.contains("/");
    }

    /** The signature of a completed checkpoint, or empty when the stage has none. */
    public Optional<String> completedSignature(String stage) {
        return marker(stage).map(p -> p.getProperty("signature"));
    }

    /** The code version that wrote a completed checkpoint, or empty when unknown or the stage has none. */
    public Optional<String> completedCode(String stage) {
        return marker(stage).map(p -> p.getProperty("code"));
    }

    private Optional<Properties> marker(String stage) {
        Path marker = new Path(stage(stage), SUCCESS);
        try {
            if (!fs.exists(marker)) {
                return Optional.empty();
            }
            Properties p = new Properties();
            try (InputStream in = fs.open(marker)) {
                p.load(in);
            }
            return Optional.of(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + marker, e);
        }
    }

    /**
     * What is wrong with a completed checkpoint's files, compared with what its marker recorded when it
     * was committed (a file missing, or of another size), or empty when they match.
     */
    public Optional<String> damage(String stage) {
        Optional<Properties> marker = marker(stage);
        if (marker.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Long> now;
        try {
            now = files(stage(stage));
        } catch (IOException e) {
            return Optional.of("cannot list " + stage(stage) + ": " + e.getMessage());
        }
        for (String key : marker.get().stringPropertyNames()) {
            if (!key.startsWith(FILE_PREFIX)) {
                continue;
            }
            String file = key.substring(FILE_PREFIX.length());
            long committed = Long.parseLong(marker.get().getProperty(key));
            Long size = now.get(file);
            if (size == null) {
                return Optional.of(new Path(stage(stage), file) + " is missing");
            }
            if (size != committed) {
                return Optional.of(new Path(stage(stage), file) + " has " + size + " bytes, " + committed
                        + " when it was written");
            }
        }
        return Optional.empty();
    }

    /** Every file under a checkpoint (its marker aside), by path relative to it, with its size. */
    private Map<String, Long> files(Path dir) throws IOException {
        Map<String, Long> files = new TreeMap<>();
        String prefix = fs.makeQualified(dir).toUri().getPath() + "/";
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(dir, true);
        while (it.hasNext()) {
            LocatedFileStatus f = it.next();
            String relative = f.getPath().toUri().getPath().substring(prefix.length());
            if (!relative.equals(SUCCESS)) {
                files.put(relative, f.getLen());
            }
        }
        return files;
    }

    /**
     * What is wrong with one output of a finished stage: a file must be there and not empty; a
     * directory (a Parquet table) must hold the {@code _SUCCESS} its writer leaves when all its parts are written.
     */
    private Optional<String> incomplete(Path output) throws IOException {
        if (!fs.exists(output)) {
            return Optional.of(output.getName() + " is missing");
        }
        FileStatus status = fs.getFileStatus(output);
        if (status.isDirectory()) {
            return fs.exists(new Path(output, SUCCESS)) ? Optional.empty()
                    : Optional.of(output.getName() + " has no " + SUCCESS + " (its writer did not finish)");
        }
        return status.getLen() > 0 ? Optional.empty() : Optional.of(output.getName() + " is empty");
    }

    /** A fresh, empty directory for a stage to write into. */
    public Path begin(String stage) throws IOException {
        Path tmp = new Path(new Path(root, TMP), stage + "-" + UUID.randomUUID().toString().substring(0, 8));
        if (!fs.mkdirs(tmp)) {
            throw new IOException("cannot create " + tmp);
        }
        return tmp;
    }

    /**
     * Moves a finished stage directory into place, replacing the old checkpoint, then writes _SUCCESS
     * with the signature, the code version that wrote it and the size of every file. Refuses, leaving
     * the old checkpoint as it was, when one of the stage's declared outputs is missing or incomplete.
     */
    public void commit(String stage, Path finished, List<String> outputs, String signature, String codeVersion)
            throws IOException {
        for (String output : outputs) {
            incomplete(new Path(finished, output)).ifPresent(fault -> {
                throw new IllegalStateException("stage '" + stage + "' finished without writing all its outputs: "
                        + fault + "; nothing was committed");
            });
        }
        Path target = stage(stage);
        Path retired = null;
        if (fs.exists(target)) {
            retired = new Path(new Path(root, TMP), stage + "-retired-" + UUID.randomUUID().toString().substring(0, 8));
            rename(target, retired);
        }
        rename(finished, target);
        Properties p = new Properties();
        p.setProperty("stage", stage);
        p.setProperty("signature", signature);
        p.setProperty("code", codeVersion);
        p.setProperty("completed", Instant.now().toString());
        files(target).forEach((file, size) -> p.setProperty(FILE_PREFIX + file, Long.toString(size)));
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        p.store(text, "SparkSlim checkpoint marker: this directory is complete");
        writeAtomically(new Path(target, SUCCESS), text.toByteArray());
        if (retired != null) {
            fs.delete(retired, true);
        }
    }

    /**
     * Where a stage of this signature keeps what lets a later run resume it (a training's state after
     * each epoch). It survives a failed or killed run; what was kept for another signature of the stage
     * (other settings, other inputs, other code) is deleted here, as it cannot be resumed.
     */
    public Path resumeArea(String stage, String signature) throws IOException {
        Path stageArea = new Path(new Path(root, RESUME), stage);
        Path area = new Path(stageArea, signature.substring(0, 16));
        if (fs.exists(stageArea)) {
            for (FileStatus s : fs.listStatus(stageArea)) {
                if (!s.getPath().getName().equals(area.getName())) {
                    fs.delete(s.getPath(), true);
                }
            }
        }
        return area;
    }

    /** Deletes a stage's resume area: it is committed, or is to run from the start. */
    public void discardResumeArea(String stage) throws IOException {
        fs.delete(new Path(new Path(root, RESUME), stage), true);
    }

    /** Deletes what killed or failed runs left in the temporary area. */
    public void clearTemporary() throws IOException {
        Path tmp = new Path(root, TMP);
        if (fs.exists(tmp)) {
            for (FileStatus s : fs.listStatus(tmp)) {
                fs.delete(s.getPath(), true);
            }
        }
    }

    public void discard(Path temporary) {
        try {
            fs.delete(temporary, true);
        } catch (IOException ignored) {
            // clearTemporary() removes it on the next run
        }
    }

    /**
     * Writes a file under a temporary name and renames it into place, so the name never holds a
     * partial file (it may briefly hold none, as Hadoop's rename does not replace).
     */
    public void writeAtomically(Path file, byte[] content) throws IOException {
        String unique = UUID.randomUUID().toString().substring(0, 8);
        Path part = new Path(file.getParent(), "." + file.getName() + "." + unique + ".part");
        try (OutputStream out = fs.create(part, true)) {
            out.write(content);
        }
        if (fs.exists(file)) {
            fs.delete(file, false);
        }
        rename(part, file);
    }

    public void writeText(Path file, String text) throws IOException {
        writeAtomically(file, text.getBytes(StandardCharsets.UTF_8));
    }

    public byte[] read(Path file) throws IOException {
        try (InputStream in = fs.open(file)) {
            return in.readAllBytes();
        }
    }

    private void rename(Path from, Path to) throws IOException {
        if (!fs.rename(from, to)) {
            throw new IOException("cannot move " + from + " to " + to);
        }
    }
}
