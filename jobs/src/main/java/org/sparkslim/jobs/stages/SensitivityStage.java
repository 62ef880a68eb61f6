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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.prune.ChannelGroup;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;
import org.sparkslim.jobs.spark.SensitivityAnalysis;
import org.sparkslim.jobs.spark.Tables;
import org.sparkslim.jobs.spark.ValidationImages;

/**
 * How much each channel group can be pruned alone: every (group, ratio) pair is one Spark task that
 * prunes that group of the broadcast model and scores it on the val split. Writes
 * {@code sensitivities.parquet} (drop = relative top-1 drop from the unpruned model; reused = taken
 * from the previous run). Rows of an earlier run of this stage are reused when the model, the
 * exact pruning (kept channels) and the data are the same, so widening the ratio list or the scope
 * computes only what is new.
 */
public final class SensitivityStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(SensitivityStage.class);
    public static final String TABLE = "sensitivities.parquet";
    static final String BASELINE = "";
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
                "prune.unsupported-vertices", "data.image", "data.num-classes", "data.normalization");
    }

    @Override
    public List<String> inputs(Config config) {
        return List.of("prepare-data", config.getString("prune.model"));
    }

    @Override
    public List<String> outputs() {
        return List.of(TABLE);
    }

    /** A previously measured row, and what identifies it. */
    private record Key(String group, String planKey) {
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        Config c = ctx.config();
        ModelCheckpoint.Loaded model = ModelCheckpoint.loadSingle(ctx, c.getString("prune.model"));
        PruningSetup setup = PruningSetup.of(model.net(), c);
        BatchAssembler assembler = ImageTable.assembler(c);
        int maxImages = c.getInt("sensitivity.max-images");
        String modelHash = model.record().sha256();
        String dataKey = ModelFiles.sha256((ctx.inputSignature("prepare-data") + "|" + maxImages + "|"
                + assembler.normalization()).getBytes(StandardCharsets.UTF_8));

        Map<Key, Row> reusable = previousRows(ctx, modelHash, dataKey);
        List<SensitivityAnalysis.Task> tasks = new ArrayList<>();
        List<Object[]> planned = new ArrayList<>();
        PruningPlan baseline = PruningPlan.empty(setup.criterion().configName());
        planned.add(new Object[] {BASELINE, 0, 0.0, 0, planKey(baseline)});
        for (ChannelGroup group : setup.builder().prunable()) {
            for (double ratio : ratios(c)) {
                PruningPlan plan = setup.builder().plan(Map.of(group.name(), ratio));
                PruningPlan.GroupPlan gp = plan.group(group.name());
                planned.add(new Object[] {group.name(), group.size(), ratio,
                        gp == null ? group.size() : gp.kept().length, planKey(plan)});
            }
        }
        for (Object[] p : planned) {
            if (!reusable.containsKey(new Key((String) p[0], (String) p[4]))) {
                PruningPlan plan = p[0].equals(BASELINE) ? baseline
                        : setup.builder().plan(Map.of((String) p[0], (Double) p[2]));
                tasks.add(new SensitivityAnalysis.Task((String) p[0], (Double) p[2], plan));
            }
        }
        LabeledImages val = ValidationImages.firstN(ctx.spark(), ctx.input("prepare-data") + "/" + ImageTable.file("val"),
                assembler.shape(), maxImages);
        ctx.describe(String.format("scoring %d pruned variants on %d val images (%d reused)", tasks.size(), val.size(),
                planned.size() - tasks.size()));
        LOG.info("{} (group, ratio) evaluations: {} to compute on {} val images, {} reused from the previous run",
                planned.size(), tasks.size(), val.size(), planned.size() - tasks.size());
        Map<Key, SensitivityAnalysis.Result> fresh = new HashMap<>();
        long start = System.nanoTime();
        for (SensitivityAnalysis.Result r : SensitivityAnalysis.run(ctx.spark(), model.bytes(), modelHash, tasks, val,
                assembler, c.getInt("sensitivity.batch-size"), c.getInt("sensitivity.threads-per-task"))) {
            PruningPlan plan = r.group().equals(BASELINE) ? baseline : setup.builder().plan(Map.of(r.group(), r.ratio()));
            fresh.put(new Key(r.group(), planKey(plan)), r);
        }
        LOG.info(String.format("computed %d evaluations in %.1f s", tasks.size(), (System.nanoTime() - start) / 1e9));

        Key baselineKey = new Key(BASELINE, planKey(baseline));
        double baseTop1 = fresh.containsKey(baselineKey) ? fresh.get(baselineKey).top1()
                : reusable.get(baselineKey).<Double>getAs("top1");
        List<Row> rows = new ArrayList<>();
        for (Object[] p : planned) {
            Key key = new Key((String) p[0], (String) p[4]);
            SensitivityAnalysis.Result r = fresh.get(key);
            double top1 = r != null ? r.top1() : reusable.get(key).<Double>getAs("top1");
            double loss = r != null ? r.loss() : reusable.get(key).<Double>getAs("loss");
            long macs = r != null ? r.macs() : reusable.get(key).<Long>getAs("macs");
            rows.add(RowFactory.create(modelHash, p[0], p[1], p[2], p[3], setup.criterion().configName(), p[4], dataKey,
                    top1, loss, macs, baseTop1, (baseTop1 - top1) / baseTop1, r == null));
        }
        Tables.write(ctx.spark(), ctx.output(TABLE), SCHEMA, rows);
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

    private static String planKey(PruningPlan plan) {
        StringBuilder text = new StringBuilder();
        plan.groups().forEach(g -> text.append(g.group()).append(java.util.Arrays.toString(g.kept())).append(';'));
        return ModelFiles.sha256(text.toString().getBytes(StandardCharsets.UTF_8)).substring(0, 24);
    }

    /** Rows of the last completed run of this stage measured on the same model and data. */
    private static Map<Key, Row> previousRows(StageContext ctx, String modelHash, String dataKey) throws Exception {
        Map<Key, Row> rows = new HashMap<>();
        Path previous = new Path(ctx.run().stage("sensitivity"), TABLE);
        if (ctx.run().completedSignature("sensitivity").isEmpty() || !ctx.run().fileSystem().exists(previous)) {
            return rows;
        }
        for (Row r : Tables.read(ctx.spark(), previous)
                .where(col("model_sha256").equalTo(modelHash).and(col("data_key").equalTo(dataKey))).collectAsList()) {
            rows.put(new Key(r.getAs("group"), r.getAs("plan_key")), r);
        }
        return rows;
    }
}
