package org.sparkslim.jobs.training;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.train.EpochCheckpoints;
import org.sparkslim.compression.train.TrainingState;
import org.sparkslim.jobs.pipeline.RunDirectory;

/**
 * A training's state after each epoch, as {@code epoch-<n>.state} in a directory of the stage's resume
 * area ({@link org.sparkslim.jobs.pipeline.StageContext#resumeArea()}), on the run directory's file
 * system. A state is written under a temporary name and renamed, so a listed one is whole; the older
 * one is deleted after the newer is in place.
 */
final class EpochCheckpointFiles implements EpochCheckpoints {
    private static final Logger LOG = LoggerFactory.getLogger(EpochCheckpointFiles.class);
    private static final Pattern STATE = Pattern.compile("epoch-(\\d+)\\.state");

    private final RunDirectory run;
    private final Path dir;

    EpochCheckpointFiles(RunDirectory run, Path dir) {
        this.run = run;
        this.dir = dir;
    }

    @Override
    public Optional<TrainingState> latest() throws IOException {
        Optional<Path> latest = latestFile();
        if (latest.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream in = run.fileSystem().open(latest.get())) {
            return Optional.of(TrainingState.read(in));
        } catch (IOException e) {
            throw new IOException("cannot read the saved training state " + latest.get() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void save(TrainingState state) throws IOException {
        Optional<Path> previous = latestFile();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        state.write(bytes);
        Path file = new Path(dir, "epoch-" + state.epoch() + ".state");
        run.writeAtomically(file, bytes.toByteArray());
        LOG.info("saved the training state after epoch {} ({} MB) to {}", state.epoch(),
                String.format("%.1f", bytes.size() / 1e6), file);
        if (previous.isPresent() && !previous.get().equals(file)) {
            run.fileSystem().delete(previous.get(), false);
        }
    }

    private Optional<Path> latestFile() throws IOException {
        FileSystem fs = run.fileSystem();
        if (!fs.exists(dir)) {
            return Optional.empty();
        }
        Path latest = null;
        int latestEpoch = -1;
        for (FileStatus f : fs.listStatus(dir)) {
            Matcher m = STATE.matcher(f.getPath().getName());
            if (m.matches() && Integer.parseInt(m.group(1)) > latestEpoch) {
                latestEpoch = Integer.parseInt(m.group(1));
                latest = f.getPath();
            }
        }
        return Optional.ofNullable(latest);
    }
}
