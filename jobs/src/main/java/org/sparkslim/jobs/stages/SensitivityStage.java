package org.sparkslim.jobs.stages;

import static org.apache.spark.sql.functions.col;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;
import org.sparkslim.jobs.spark.Tables;
import org.sparkslim.jobs.spark.ValidationImages;

/**
 * How much each channel group can be pruned alone: every (group, ratio) pair is one Spark task that
 * prunes that group of the broadcast model and scores it on the val split. Writes
 * {@code sensitivities.parquet} (drop = relative top-1 drop from the unpruned model; reused = taken
 * from the previous run). Rows of an earlier run of this stage are reused when the model, the exact
 * pruning (kept channels) and the data are the same, so widening the ratio list or the scope
 * computes only what is new.
 */
public final class SensitivityStage implements Stage {
    public static final String TABLE = "sensitivities.parquet";
    static final String BASELINE = SensitivityMeasurement.BASELINE;
    static final StructType SCHEMA = new StructType()
            .add("model_sha256", DataTypes.StringType, false)
            .add("group", DataTypes.StringType, false)
            .add("size", DataTypes.IntegerType, false)
            .add("ratio", DataTypes.DoubleType, false)
            .add("kept", DataTypes.IntegerType, false)
            .add("criterion", DataTypes.StringType, false)
            .add("plan_key", DataTypes.StringType, false)
            .add("data_key", DataTypes.StringType, false)
            .add("top1", DataTypes.DoubleType, false)
            .add("loss", DataTypes.DoubleType, false)
            .add("macs", DataTypes.LongType, false)
            .add("baseline_top1", DataTypes.DoubleType, false)
            .add("drop", DataTypes.DoubleType, false)
            .add("reused", DataTypes.BooleanType, false);

    @Override
    public String name() {
        return "sensitivity";
    }

    @Override
    public String description() {
        return "val top-1 of the model with each group pruned alone at each ratio, in parallel";
    }

    @Override
    public List<String> configPaths() {
        return List.of("sensitivity", "prune.model", "prune.criterion", "prune.combine", "prune.scope",
                "prune.unsupported-vertices", "prune.bn-recalibration-images", "prune.reconstruction-images", "run.seed",
                "data.image", "data.num-classes", "data.normalization");
    }

    @Override
    public List<String> inputs(Config config) {
        return List.of("prepare-data", config.getString("prune.model"));
    }

    @Override
    public List<String> outputs() {
        return List.of(TABLE);
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        Config c = ctx.config();
        ModelCheckpoint.Loaded model = ModelCheckpoint.loadSingle(ctx, c.getString("prune.model"));
        PruningSetup setup = PruningSetup.of(model.net(), c);
        BatchAssembler assembler = ImageTable.assembler(c);
        int maxImages = c.getInt("sensitivity.max-images");
        String modelHash = model.record().sha256();
        // restored points differ from plain ones: how they were restored is part of the data key (the
        // tag "ridge held-out" keeps rows refitted with the earlier fixed ridge from being reused)
        int recalibrationImages = PruningSetup.recalibrationImageCount(c);
        int reconstructionImages = PruningSetup.reconstructionImageCount(c);
        String dataKey = ModelFiles.sha256((ctx.inputSignature("prepare-data") + "|" + maxImages + "|"
                + assembler.normalization() + (recalibrationImages == 0 ? "" : "|bn-recalibration " + recalibrationImages)
                + (reconstructionImages == 0 ? "" : "|reconstruction " + reconstructionImages + " seed "
                + c.getLong("run.seed") + " ridge held-out")).getBytes(StandardCharsets.UTF_8));
        LabeledImages val = validation(ctx, assembler);

        List<SensitivityMeasurement.Point> points = SensitivityMeasurement.measure(ctx, model.bytes(), modelHash, setup,
                val, PruningSetup.restoration(ctx, assembler, c.getInt("sensitivity.batch-size")), assembler, ratios(c),
                previousPoints(ctx, modelHash, dataKey));
        double base = points.get(0).top1();
        List<Row> rows = new ArrayList<>();
        for (SensitivityMeasurement.Point p : points) {
            rows.add(RowFactory.create(modelHash, p.group(), p.size(), p.ratio(), p.kept(), setup.criterion().configName(),
                    p.planKey(), dataKey, p.top1(), p.loss(), p.macs(), base, (base - p.top1()) / base, p.reused()));
        }
        Tables.write(ctx.spark(), ctx.output(TABLE), SCHEMA, rows);
    }

    /** The first {@code sensitivity.max-images} of the val split, in memory, to broadcast. */
    static LabeledImages validation(StageContext ctx, BatchAssembler assembler) {
        return ValidationImages.firstN(ctx.spark(), ctx.input("prepare-data") + "/" + ImageTable.file("val"),
                assembler.shape(), ctx.config().getInt("sensitivity.max-images"));
    }

    static List<Double> ratios(Config c) {
        List<Double> ratios = c.getDoubleList("sensitivity.ratios");
        for (double r : ratios) {
            if (r <= 0 || r >= 1) {
                throw new ConfigException("sensitivity.ratios: " + r + " is not a fraction in (0, 1)");
            }
        }
        return ratios;
    }

    /** Points of the last completed run of this stage measured on the same model and data. */
    private static Map<SensitivityMeasurement.Key, SensitivityMeasurement.Point> previousPoints(
            StageContext ctx, String modelHash, String dataKey) throws Exception {
        Map<SensitivityMeasurement.Key, SensitivityMeasurement.Point> points = new HashMap<>();
        Path previous = new Path(ctx.run().stage("sensitivity"), TABLE);
        if (ctx.run().completedSignature("sensitivity").isEmpty() || !ctx.run().fileSystem().exists(previous)) {
            return points;
        }
        for (Row r : Tables.read(ctx.spark(), previous)
                .where(col("model_sha256").equalTo(modelHash).and(col("data_key").equalTo(dataKey))).collectAsList()) {
            SensitivityMeasurement.Point p = new SensitivityMeasurement.Point(r.getAs("group"), r.<Integer>getAs("size"),
                    r.<Double>getAs("ratio"), r.<Integer>getAs("kept"), r.getAs("plan_key"), r.<Double>getAs("top1"),
                    r.<Double>getAs("loss"), r.<Long>getAs("macs"), true);
            points.put(p.key(), p);
        }
        return points;
    }
}
