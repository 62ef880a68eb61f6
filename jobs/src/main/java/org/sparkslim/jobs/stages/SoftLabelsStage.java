package org.sparkslim.jobs.stages;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.distill.FeatureTarget;
import org.sparkslim.compression.distill.TeacherLogits;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.FeatureTargetSettings;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.ScoringEngine;
import org.sparkslim.jobs.spark.TeacherInference;
import org.sparkslim.jobs.tables.FeatureTargetsTable;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.SoftLabelsTable;

/**
 * A teacher's logits, and the feature targets asked for (layers' activations, FSP matrices of layer
 * pairs), for every image of a split, computed in the executors partition by partition (the driver
 * holds the teacher, never the data), written as {@code soft-labels.parquet} for offline distillation.
 * The teacher is any single-model checkpoint: a stage of this run or a path to another run's.
 */
public final class SoftLabelsStage implements Stage<SoftLabelsStage.Settings> {
    private static final Logger LOG = LoggerFactory.getLogger(SoftLabelsStage.class);

    /** @param features the feature targets stored beside the logits, in order (none: logits only) */
    public record Settings(String teacher, String split, int batchSize, int threadsPerTask, ScoringEngine engine,
                           List<FeatureTarget> features, DataSettings data) {
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
                r.parsed("scoring.engine", ScoringEngine::parse), FeatureTargetSettings.read(r), DataSettings.read(r));
    }

    @Override
    public List<String> inputs(Settings s) {
        return List.of("prepare-data", s.teacher());
    }

    @Override
    public List<String> outputs(Settings settings) {
        return List.of(SoftLabelsTable.TABLE.file(), FeatureTargetsTable.TABLE.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        ModelCheckpoint.Loaded teacher = ModelCheckpoint.loadSingle(ctx, s.teacher());
        TeacherLogits logits = new TeacherLogits(teacher.net());
        Set<String> layers = new LinkedHashSet<>();
        for (FeatureTarget target : s.features()) {
            for (String layer : target.layers()) {
                if (!logits.has(layer)) {
                    throw new ConfigException(FeatureTargetSettings.keyOf(target) + ": '" + layer
                            + "' is not a vertex of the teacher " + s.teacher());
                }
                layers.add(layer);
            }
        }
        TeacherLogits tapped = layers.isEmpty() ? logits : logits.tapping(List.copyOf(layers));
        List<FeatureTargetsTable.Stored> stored = stored(s.features(), tapped, s.data().assembler());
        FeatureTargetsTable.TABLE.write(ctx, stored);
        BroadcastModel network = BroadcastModel.of(ctx.spark(), tapped.network());
        Dataset<Row> images = ctx.spark().read().parquet(ctx.input("prepare-data") + "/" + ImageTable.file(s.split()));
        ctx.describe("the logits of " + s.teacher() + (stored.isEmpty() ? "" : " and " + stored.size()
                + " feature targets") + " for the " + s.split() + " split");
        long start = System.nanoTime();
        SoftLabelsTable.TABLE.write(ctx, TeacherInference.logits(images, network, s.features(), s.data().assembler(),
                s.batchSize(), s.threadsPerTask(), s.engine()));
        LOG.info(String.format("wrote the logits of %s for the %s split in %.1f s%s", s.teacher(), s.split(),
                (System.nanoTime() - start) / 1e9, stored.isEmpty() ? "" : String.format(", with %s (%d bytes per image)",
                        stored.stream().map(FeatureTargetsTable.Stored::key).toList(),
                        stored.stream().mapToLong(FeatureTargetsTable.Stored::bytesPerImage).sum())));
    }

    /** Each target's place and size, from the teacher's answer for one blank image. */
    private static List<FeatureTargetsTable.Stored> stored(List<FeatureTarget> targets, TeacherLogits teacher,
                                                           BatchAssembler assembler) {
        if (targets.isEmpty()) {
            return List.of();
        }
        ImageShape shape = assembler.shape();
        Map<String, INDArray> activations = teacher.activations(
                assembler.features(List.of(new byte[shape.channels() * shape.height() * shape.width()])));
        List<FeatureTargetsTable.Stored> stored = new ArrayList<>();
        for (int i = 0; i < targets.size(); i++) {
            long width = targets.get(i).of(activations).size(1);
            stored.add(new FeatureTargetsTable.Stored(i, targets.get(i).key(), width, Float.BYTES * width));
        }
        return stored;
    }
}
