package org.sparkslim.jobs.stages;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.compression.train.LatencyMeter;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.DistributedScoring;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;
import org.sparkslim.jobs.spark.ModelRecord;
import org.sparkslim.jobs.spark.Tables;

/**
 * Scores the models of the stages named in {@code evaluate.models} on a split, distributed over the
 * cluster, and measures their latency on the driver. Writes {@code metrics.parquet} (one row per
 * model), {@code per-class.parquet}, {@code confusion.parquet} and {@code predictions.parquet}.
 */
public final class EvaluateStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(EvaluateStage.class);
    public static final StructType METRICS = new StructType()
            .add("stage", DataTypes.StringType, false)
            .add("model", DataTypes.StringType, false)
            .add("split", DataTypes.StringType, false)
            .add("examples", DataTypes.LongType, false)
            .add("top1", DataTypes.DoubleType, false)
            .add("loss", DataTypes.DoubleType, false)
            .add("macs", DataTypes.LongType, false)
            .add("params", DataTypes.LongType, false)
            .add("bytes", DataTypes.LongType, false)
            .add("latency_ms", DataTypes.createMapType(DataTypes.IntegerType, DataTypes.DoubleType), false);

    @Override
    public String name() {
        return "evaluate";
    }

    @Override
    public String description() {
        return "top-1, loss, per-class accuracy, confusion and latency of the models of evaluate.models";
    }

    @Override
    public List<String> configPaths() {
        return List.of("evaluate", "data.image", "data.num-classes", "data.normalization");
    }

    @Override
    public List<String> inputs(Config config) {
        List<String> inputs = new ArrayList<>();
        inputs.add("prepare-data");
        inputs.addAll(config.getStringList("evaluate.models"));
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of("metrics.parquet", "per-class.parquet", "confusion.parquet", "predictions.parquet");
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        OneDnn.enable();
        Config c = ctx.config();
        if (c.getStringList("evaluate.models").isEmpty()) {
            throw new ConfigException("evaluate.models is empty: name the stages whose models to evaluate, e.g. [train]");
        }
        String split = c.getString("evaluate.split");
        if (!List.of(ImageTable.SPLITS).contains(split)) {
            throw new ConfigException("evaluate.split: unknown split '" + split + "'; use train, val or test");
        }
        BatchAssembler assembler = ImageTable.assembler(c);
        Dataset<Row> images = ctx.spark().read().parquet(ctx.input("prepare-data") + "/" + ImageTable.file(split));
        LatencyMeter latency = new LatencyMeter(c.getInt("evaluate.latency.warmup"), c.getInt("evaluate.latency.runs"),
                c.getInt("evaluate.latency.threads"));

        List<String> stages = new ArrayList<>();
        List<ModelCheckpoint.Loaded> models = new ArrayList<>();
        List<Row> overall = new ArrayList<>();
        Dataset<Row> perClass = null;
        Dataset<Row> confusion = null;
        Dataset<Row> allPredictions = null;
        for (String stage : c.getStringList("evaluate.models")) {
            for (ModelRecord record : ModelCheckpoint.read(ctx.spark(), ctx.run(), stage)) {
                ModelCheckpoint.Loaded model = ModelCheckpoint.load(ctx.run(), stage, record);
                ctx.describe("scoring " + stage + "/" + record.name() + " on the " + split + " split");
                Dataset<Row> predictions = DistributedScoring.predict(ctx.spark(), images, model.bytes(), record.sha256(),
                        assembler, c.getInt("evaluate.batch-size"), c.getInt("evaluate.threads-per-task"))
                        .persist(StorageLevel.MEMORY_AND_DISK());
                overall.add(predictions.agg(count(lit(1)), avg(correct()), avg("loss")).first());
                stages.add(stage);
                models.add(model);

                Dataset<Row> tagged = predictions.withColumn("stage", lit(stage)).withColumn("model", lit(record.name()));
                Dataset<Row> classes = tagged.groupBy("stage", "model", "label")
                        .agg(count(lit(1)).as("examples"), avg(correct()).as("accuracy"));
                Dataset<Row> cells = tagged.groupBy("stage", "model", "label", "predicted").agg(count(lit(1)).as("count"));
                perClass = perClass == null ? classes : perClass.unionByName(classes);
                confusion = confusion == null ? cells : confusion.unionByName(cells);
                allPredictions = allPredictions == null ? tagged : allPredictions.unionByName(tagged);
            }
        }

        ctx.describe("measuring latency on the driver");
        List<Map<Integer, Double>> latencies = new ArrayList<>();
        models.forEach(m -> latencies.add(new HashMap<>()));
        for (int batch : c.getIntList("evaluate.latency.batch-sizes")) {
            double[] millis = latency.medianMillis(models.stream().map(ModelCheckpoint.Loaded::net).toList(),
                    assembler.shape(), batch);
            for (int i = 0; i < models.size(); i++) {
                latencies.get(i).put(batch, millis[i]);
            }
        }
        List<Row> metrics = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            ModelRecord record = models.get(i).record();
            Row o = overall.get(i);
            metrics.add(RowFactory.create(stages.get(i), record.name(), split, o.getLong(0), o.getDouble(1),
                    o.getDouble(2), record.macs(), record.params(), record.bytes(),
                    scala.collection.JavaConverters.mapAsScalaMap(latencies.get(i))));
            LOG.info(String.format("%s/%s on %s: top-1 %.2f%%, loss %.4f, %d MACs, %d params, %d bytes, latency %s",
                    stages.get(i), record.name(), split, 100 * o.getDouble(1), o.getDouble(2), record.macs(),
                    record.params(), record.bytes(), ReportStage.latency(latencies.get(i))));
        }
        ctx.describe("writing metrics");
        Tables.write(ctx.spark(), ctx.output("metrics.parquet"), METRICS, metrics);
        Tables.write(perClass.orderBy("stage", "model", "label").coalesce(1), ctx.output("per-class.parquet"));
        Tables.write(confusion.orderBy("stage", "model", "label", "predicted").coalesce(1), ctx.output("confusion.parquet"));
        if (c.getBoolean("evaluate.write-predictions")) {
            Tables.write(allPredictions, ctx.output("predictions.parquet"));
        }
    }

    private static org.apache.spark.sql.Column correct() {
        return when(col("label").equalTo(col("predicted")), 1.0).otherwise(0.0);
    }
}
