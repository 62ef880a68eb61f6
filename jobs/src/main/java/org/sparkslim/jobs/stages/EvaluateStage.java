package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.compression.train.LatencyMeter;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.report.MarkdownTable;
import org.sparkslim.jobs.report.ModelCharts;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.LatencySettings;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.DistributedScoring;
import org.sparkslim.jobs.spark.ScoringEngine;
import org.sparkslim.jobs.tables.EvaluationTables;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.MetricsTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.ModelRecord;

/**
 * Scores the models of the stages named in {@code evaluate.models} on a split, distributed over the
 * cluster, and measures their latency on the driver. Writes {@code metrics.parquet} (one row per
 * model), {@code per-class.parquet}, {@code confusion.parquet} and {@code predictions.parquet}.
 */
public final class EvaluateStage implements Stage<EvaluateStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(EvaluateStage.class);

    public record Settings(List<String> models, String split, int batchSize, int threadsPerTask, ScoringEngine engine,
                           boolean writePredictions, LatencySettings latency, DataSettings data) {
    }

    @Override
    public String name() {
        return "evaluate";
    }

    @Override
    public String description() {
        return "top-1, loss, per-class accuracy, confusion and latency of the models of evaluate.models";
    }

    @Override
    public Settings settings(SettingsReader r) {
        List<String> models = r.nonEmptyStrings("evaluate.models", "name the stages whose models to evaluate, e.g. [train]");
        return new Settings(models, r.choice("evaluate.split", List.of(ImageTable.SPLITS)),
                r.integer("evaluate.batch-size", Range.atLeast(1)), r.integer("evaluate.threads-per-task", Range.atLeast(1)),
                r.parsed("scoring.engine", ScoringEngine::parse), r.flag("evaluate.write-predictions"),
                LatencySettings.read(r, "evaluate"), DataSettings.read(r));
    }

    @Override
    public List<String> inputs(Settings s) {
        return Stream.concat(Stream.of("prepare-data"), s.models().stream()).toList();
    }

    @Override
    public List<String> outputs(Settings settings) {
        List<String> outputs = new ArrayList<>(List.of(MetricsTable.TABLE.file(), EvaluationTables.PER_CLASS,
                EvaluationTables.CONFUSION));
        if (settings.writePredictions()) {
            outputs.add(EvaluationTables.PREDICTIONS);
        }
        return outputs;
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        OneDnn.enable();
        Settings s = ctx.settings();
        String split = s.split();
        BatchAssembler assembler = s.data().assembler();
        Dataset<Row> images = ctx.spark().read().parquet(ctx.input("prepare-data") + "/" + ImageTable.file(split));
        LatencyMeter latency = new LatencyMeter(s.latency().warmup(), s.latency().runs(), s.latency().threads());

        List<String> stages = new ArrayList<>();
        List<ModelCheckpoint.Loaded> models = new ArrayList<>();
        List<EvaluationTables.Score> scores = new ArrayList<>();
        EvaluationTables.Builder tables = new EvaluationTables.Builder();
        for (String stage : s.models()) {
            for (ModelRecord record : ModelCheckpoint.read(ctx.spark(), ctx.run(), stage)) {
                ModelCheckpoint.Loaded model = ModelCheckpoint.load(ctx.run(), stage, record);
                ctx.describe("scoring " + stage + "/" + record.name() + " on the " + split + " split");
                Dataset<Row> predictions = DistributedScoring.predict(images,
                        BroadcastModel.of(ctx.spark(), model.bytes(), record.sha256()), assembler, s.batchSize(),
                        s.threadsPerTask(), s.engine())
                        .persist(StorageLevel.MEMORY_AND_DISK());
                scores.add(tables.add(stage, record.name(), predictions));
                stages.add(stage);
                models.add(model);
            }
        }

        ctx.describe("measuring latency on the driver");
        List<Map<Integer, Double>> latencies = new ArrayList<>();
        models.forEach(m -> latencies.add(new HashMap<>()));
        for (int batch : s.latency().batchSizes()) {
            double[] millis = latency.medianMillis(models.stream().map(ModelCheckpoint.Loaded::net).toList(),
                    assembler.shape(), batch);
            for (int i = 0; i < models.size(); i++) {
                latencies.get(i).put(batch, millis[i]);
            }
        }
        List<MetricsTable.Metrics> metrics = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            ModelRecord record = models.get(i).record();
            EvaluationTables.Score score = scores.get(i);
            metrics.add(new MetricsTable.Metrics(stages.get(i), record.name(), split, score.examples(), score.top1(),
                    score.loss(), record.macs(), record.params(), record.bytes(), latencies.get(i)));
            LOG.info(String.format("%s/%s on %s: top-1 %.2f%%, loss %.4f, %d MACs, %d params, %d bytes, latency %s",
                    stages.get(i), record.name(), split, 100 * score.top1(), score.loss(), record.macs(),
                    record.params(), record.bytes(), Report.latency(latencies.get(i))));
        }
        ctx.describe("writing metrics");
        MetricsTable.TABLE.write(ctx, metrics);
        tables.write(ctx, s.writePredictions());
    }


    @Override
    public boolean leads() {
        return true;
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) throws IOException {
        List<MetricsTable.Metrics> metrics = MetricsTable.TABLE.read(report.spark(), checkpoint);
        report.heading("Metrics").table(metricsTable(metrics))
                .image(stage + "-top1-macs.png", "top-1 against MACs", ModelCharts.top1AgainstMacs(metrics))
                .image(stage + "-top1-latency.png", "top-1 against latency", ModelCharts.top1AgainstLatency(metrics));
        if (metrics.size() > 1) {
            MetricsTable.Metrics base = metrics.get(0);
            report.heading("Compared with `" + base.stage() + "/" + base.model() + "`").table(relativeTable(metrics));
        }
        report.heading("Per-class accuracy %").table(perClassTable(metrics,
                EvaluationTables.perClass(report.spark(), checkpoint)));
    }

    /** A row per class, a column per model: where compression cost accuracy reads across a row. */
    static MarkdownTable perClassTable(List<MetricsTable.Metrics> metrics, List<EvaluationTables.ClassAccuracy> classes) {
        List<String> columns = new ArrayList<>(List.of("class", "examples"));
        metrics.forEach(m -> columns.add(m.stage() + "/" + m.model()));
        Map<Integer, Map<String, EvaluationTables.ClassAccuracy>> byClass = new TreeMap<>();
        for (EvaluationTables.ClassAccuracy c : classes) {
            byClass.computeIfAbsent(c.label(), l -> new HashMap<>()).put(c.stage() + "/" + c.model(), c);
        }
        MarkdownTable table = new MarkdownTable(columns.toArray(String[]::new));
        byClass.forEach((label, models) -> {
            List<Object> row = new ArrayList<>(List.of(label, models.values().iterator().next().examples()));
            for (String model : columns.subList(2, columns.size())) {
                EvaluationTables.ClassAccuracy c = models.get(model);
                row.add(c == null ? "" : Report.percent(c.accuracy()));
            }
            table.row(row.toArray());
        });
        return table;
    }

    /** The metrics table, as in the report and at the end of a run. */
    public static MarkdownTable metricsTable(List<MetricsTable.Metrics> metrics) {
        MarkdownTable table = new MarkdownTable("stage", "model", "split", "examples", "top-1 %", "loss", "MACs",
                "params", "bytes", "latency ms (batch)");
        for (MetricsTable.Metrics m : metrics) {
            table.row(m.stage(), m.model(), m.split(), m.examples(), Report.percent(m.top1()), Report.decimal(m.loss(), 4),
                    m.macs(), m.params(), m.bytes(), Report.latency(m.latencyMs()));
        }
        return table;
    }

    /** Each model's cost and latency as a fraction of the first model's. */
    static MarkdownTable relativeTable(List<MetricsTable.Metrics> metrics) {
        MetricsTable.Metrics base = metrics.get(0);
        MarkdownTable table = new MarkdownTable("stage", "model", "top-1 change (points)", "MACs", "params", "bytes",
                "latency (batch)");
        for (MetricsTable.Metrics m : metrics) {
            table.row(m.stage(), m.model(), String.format("%+.2f", 100 * (m.top1() - base.top1())),
                    String.format("%.3fx", m.macs() / (double) base.macs()),
                    String.format("%.3fx", m.params() / (double) base.params()),
                    String.format("%.3fx", m.bytes() / (double) base.bytes()),
                    Report.latencyRatios(m.latencyMs(), base.latencyMs()));
        }
        return table;
    }
}
