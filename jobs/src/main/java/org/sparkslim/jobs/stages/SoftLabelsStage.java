package org.sparkslim.jobs.stages;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.distill.TeacherLogits;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.ScoringEngine;
import org.sparkslim.jobs.spark.TeacherInference;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.SoftLabelsTable;

/**
 * A teacher's logits for every image of a split, computed in the executors partition by partition
 * (the driver holds the teacher, never the data), written as {@code soft-labels.parquet} for offline
 * distillation. The teacher is any single-model checkpoint: a stage of this run or a path to another
 * run's.
 */
public final class SoftLabelsStage implements Stage<SoftLabelsStage.Settings> {
    private static final Logger LOG = LoggerFactory.getLogger(SoftLabelsStage.class);

    public record Settings(String teacher, String split, int batchSize, int threadsPerTask, ScoringEngine engine,
                           DataSettings data) {
    }

    @Override
    public String name() {
        return "soft-labels";
    }

    @Override
    public String description() {
        return "a teacher's logits for every image of a split, in parallel, for offline distillation";
    }

    @Override
    public Settings settings(SettingsReader r) {
        return new Settings(r.nonEmpty("soft-labels.teacher", "name the stage (or another run's checkpoint) that teaches"),
                r.choice("soft-labels.split", List.of(ImageTable.SPLITS)),
                r.integer("soft-labels.batch-size", Range.atLeast(1)),
                r.integer("soft-labels.threads-per-task", Range.atLeast(1)),
                r.parsed("scoring.engine", ScoringEngine::parse), DataSettings.read(r));
    }

    @Override
    public List<String> inputs(Settings s) {
        return List.of("prepare-data", s.teacher());
    }

    @Override
    public List<String> outputs(Settings settings) {
        return List.of(SoftLabelsTable.TABLE.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        ModelCheckpoint.Loaded teacher = ModelCheckpoint.loadSingle(ctx, s.teacher());
        BroadcastModel logits = BroadcastModel.of(ctx.spark(), new TeacherLogits(teacher.net()).network());
        Dataset<Row> images = ctx.spark().read().parquet(ctx.input("prepare-data") + "/" + ImageTable.file(s.split()));
        ctx.describe("the logits of " + s.teacher() + " for the " + s.split() + " split");
        long start = System.nanoTime();
        SoftLabelsTable.TABLE.write(ctx, TeacherInference.logits(images, logits, s.data().assembler(), s.batchSize(),
                s.threadsPerTask(), s.engine()));
        LOG.info(String.format("wrote the logits of %s for the %s split in %.1f s", s.teacher(), s.split(),
                (System.nanoTime() - start) / 1e9));
    }
}
