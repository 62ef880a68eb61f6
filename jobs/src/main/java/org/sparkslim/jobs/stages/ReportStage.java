package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.Tables;

/** Summarizes the run's metrics (and the training history of the evaluated stages) as Markdown. */
public final class ReportStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(ReportStage.class);
    public static final String REPORT = "report.md";

    @Override
    public String name() {
        return "report";
    }

    @Override
    public String description() {
        return "Markdown summary of the run's metrics";
    }

    @Override
    public List<String> configPaths() {
        return List.of("report");
    }

    /** Stages whose tables the report shows when the pipeline runs them. */
    private static final List<String> OPTIONAL_INPUTS = List.of("sensitivity", "prune", "qat", "ptq", "export");

    @Override
    public List<String> inputs(Config config) {
        List<String> inputs = new ArrayList<>();
        inputs.add("evaluate");
        for (String stage : config.getStringList("evaluate.models")) {
            if (!inputs.contains(stage)) {
                inputs.add(stage);
            }
        }
        for (String stage : OPTIONAL_INPUTS) {
            if (config.getStringList("pipeline.stages").contains(stage) && !inputs.contains(stage)) {
                inputs.add(stage);
            }
        }
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of(REPORT, "sensitivity.png (when the run has a sensitivity stage)");
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        Config c = ctx.config();
        ctx.describe("reading metrics");
        Path evaluate = ctx.input("evaluate");
        StringBuilder md = new StringBuilder();
        md.append("# ").append(c.getString("report.title")).append("\n\n");
        md.append("Run directory: `").append(ctx.run().root()).append("`  \n");
        md.append("Generated: ").append(Instant.now()).append("  \n");
        md.append("Model: ").append(c.getString("model.family")).append(", seed ").append(ctx.seed()).append("\n\n");

        List<Row> metrics = Tables.read(ctx.spark(), new Path(evaluate, "metrics.parquet")).collectAsList();
        md.append("## Metrics\n\n").append(metricsTable(metrics)).append('\n');
        if (metrics.size() > 1) {
            md.append("## Compared with `").append(metrics.get(0).<String>getAs("stage")).append('/')
                    .append(metrics.get(0).<String>getAs("model")).append("`\n\n").append(relativeTable(metrics)).append('\n');
        }
        List<String> inputs = inputs(c);
        if (inputs.contains("qat") || inputs.contains("ptq")) {
            md.append("The DL4J latency of `qat` and `ptq` is the fake-quantized network, a float simulation of the "
                    + "int8 model; the int8 model's own latency is in ONNX exports below.\n\n");
        }
        if (inputs.contains("prune")) {
            md.append("## Pruning ratios\n\n");
            MarkdownTable ratios = new MarkdownTable("group", "producers", "channels", "kept", "removed %");
            for (Row r : Tables.read(ctx.spark(), new Path(ctx.input("prune"), "ratios.parquet")).collectAsList()) {
                ratios.row(r.getAs("group"), r.getAs("producers"), r.<Integer>getAs("size"), r.<Integer>getAs("kept"),
                        pct(r.<Double>getAs("ratio")));
            }
            md.append(ratios).append('\n');
        }
        if (inputs.contains("export")) {
            md.append("## ONNX exports\n\n").append(exportsTable(Tables.read(ctx.spark(),
                    new Path(ctx.input("export"), "exports.parquet")).collectAsList())).append('\n');
        }
        for (String stage : List.of("qat", "ptq")) {
            if (inputs.contains(stage)) {
                md.append("## Quantization error per layer (`").append(stage).append("`, worst first)\n\n");
                MarkdownTable errors = new MarkdownTable("layer", "SQNR dB", "cosine");
                for (Row r : Tables.read(ctx.spark(), new Path(ctx.input(stage), QuantizationSetup.LAYER_ERRORS))
                        .orderBy("sqnr_db").collectAsList()) {
                    errors.row(r.getAs("layer"), fmt(r.<Double>getAs("sqnr_db"), 1), fmt(r.<Double>getAs("cosine"), 5));
                }
                md.append(errors).append('\n');
            }
        }
        if (inputs.contains("sensitivity")) {
            List<Row> rows = Tables.read(ctx.spark(), new Path(ctx.input("sensitivity"), SensitivityStage.TABLE))
                    .orderBy("group", "ratio").collectAsList();
            ctx.run().writeAtomically(ctx.output("sensitivity.png"), SensitivityChart.png(rows));
            md.append("## Sensitivity\n\n![sensitivity curves](sensitivity.png)\n\n");
        }

        md.append("## Per-class accuracy\n\n");
        MarkdownTable perClass = new MarkdownTable("stage", "model", "class", "examples", "accuracy %");
        for (Row r : Tables.read(ctx.spark(), new Path(evaluate, "per-class.parquet"))
                .orderBy("stage", "model", "label").collectAsList()) {
            perClass.row(r.getAs("stage"), r.getAs("model"), r.<Integer>getAs("label"), r.<Long>getAs("examples"),
                    pct(r.<Double>getAs("accuracy")));
        }
        md.append(perClass).append('\n');

        for (String stage : c.getStringList("evaluate.models")) {
            Path history = new Path(ctx.input(stage), "history.parquet");
            if (!ctx.run().fileSystem().exists(history)) {
                continue;
            }
            md.append("## Training history of `").append(stage).append("`\n\n");
            MarkdownTable table = new MarkdownTable("epoch", "train loss", "learning rate", "images/s", "seconds",
                    "val top-1 %", "val loss");
            for (Row r : Tables.read(ctx.spark(), history).orderBy("epoch").collectAsList()) {
                table.row(r.<Integer>getAs("epoch"), fmt(r.<Double>getAs("train_loss"), 4),
                        fmt(r.<Double>getAs("learning_rate"), 5), fmt(r.<Double>getAs("images_per_second"), 0),
                        fmt(r.<Double>getAs("seconds"), 1),
                        r.isNullAt(r.fieldIndex("val_top1")) ? "" : pct(r.<Double>getAs("val_top1")),
                        r.isNullAt(r.fieldIndex("val_loss")) ? "" : fmt(r.<Double>getAs("val_loss"), 4));
            }
            md.append(table).append('\n');
        }
        ctx.run().writeText(ctx.output(REPORT), md.toString());
        LOG.info("report written; metrics:\n{}", metricsTable(metrics));
    }

    /** The metrics table, as in the report. */
    public static String metricsTable(List<Row> metrics) {
        MarkdownTable table = new MarkdownTable("stage", "model", "split", "examples", "top-1 %", "loss", "MACs",
                "params", "bytes", "latency ms (batch)");
        for (Row r : metrics) {
            table.row(r.getAs("stage"), r.getAs("model"), r.getAs("split"), r.<Long>getAs("examples"),
                    pct(r.<Double>getAs("top1")), fmt(r.<Double>getAs("loss"), 4), r.<Long>getAs("macs"),
                    r.<Long>getAs("params"), r.<Long>getAs("bytes"), latency(r.getJavaMap(r.fieldIndex("latency_ms"))));
        }
        return table.toString();
    }

    /** Each model's cost and latency as a fraction of the first model's. */
    static String relativeTable(List<Row> metrics) {
        Row base = metrics.get(0);
        Map<Integer, Double> baseLatency = base.getJavaMap(base.fieldIndex("latency_ms"));
        MarkdownTable table = new MarkdownTable("stage", "model", "top-1 change (points)", "MACs", "params", "bytes",
                "latency (batch)");
        for (Row r : metrics) {
            Map<Integer, Double> latency = new TreeMap<>(r.getJavaMap(r.fieldIndex("latency_ms")));
            StringBuilder ratios = new StringBuilder();
            latency.forEach((batch, ms) -> ratios.append(ratios.length() == 0 ? "" : ", ")
                    .append(String.format("%.2fx (%d)", ms / baseLatency.get(batch), batch)));
            table.row(r.getAs("stage"), r.getAs("model"),
                    String.format("%+.2f", 100 * (r.<Double>getAs("top1") - base.<Double>getAs("top1"))),
                    String.format("%.3fx", r.<Long>getAs("macs") / (double) base.<Long>getAs("macs")),
                    String.format("%.3fx", r.<Long>getAs("params") / (double) base.<Long>getAs("params")),
                    String.format("%.3fx", r.<Long>getAs("bytes") / (double) base.<Long>getAs("bytes")), ratios.toString());
        }
        return table.toString();
    }

    /**
     * The exports with their checks, and file size and ONNX Runtime latency relative to the first
     * float export (the model the others were compressed from, in the usual pipeline).
     */
    static String exportsTable(List<Row> exports) {
        Row base = exports.stream().filter(r -> "onnx-float".equals(r.getAs("format"))).findFirst().orElse(exports.get(0));
        Map<Integer, Double> baseLatency = base.getJavaMap(base.fieldIndex("latency_ms"));
        MarkdownTable table = new MarkdownTable("file", "format", "bytes", "size vs " + base.getAs("file"),
                "max abs diff (top-1 agreement %) on checked images", "test top-1 % ONNX Runtime / DL4J",
                "ONNX Runtime latency ms (batch)", "latency vs " + base.getAs("file"));
        for (Row r : exports) {
            Map<Integer, Double> latency = new TreeMap<>(r.getJavaMap(r.fieldIndex("latency_ms")));
            StringBuilder ratios = new StringBuilder();
            latency.forEach((batch, ms) -> ratios.append(ratios.length() == 0 ? "" : ", ")
                    .append(String.format("%.2fx (%d)", ms / baseLatency.get(batch), batch)));
            String top1 = r.isNullAt(r.fieldIndex("onnx_top1")) ? ""
                    : pct(r.<Double>getAs("onnx_top1")) + " / " + pct(r.<Double>getAs("dl4j_top1"))
                    + " (" + r.<Integer>getAs("test_images") + " images)";
            table.row(r.getAs("file"), r.getAs("format"), r.<Long>getAs("bytes"),
                    String.format("%.2fx smaller", base.<Long>getAs("bytes") / (double) r.<Long>getAs("bytes")),
                    String.format("%.2e (%s) on %d", r.<Double>getAs("max_abs_diff"), pct(r.<Double>getAs("top1_agreement")),
                            r.<Integer>getAs("checked_images")),
                    top1, latency(latency), ratios.toString());
        }
        return table.toString();
    }

    /** "4.65 ms (1), 11.51 ms (64)": median latency by batch size. */
    static String latency(Map<Integer, Double> millisByBatch) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(millisByBatch).forEach((batch, millis) -> sb.append(sb.length() == 0 ? "" : ", ")
                .append(String.format("%.2f (%d)", millis, batch)));
        return sb.toString();
    }

    private static String pct(double v) {
        return String.format("%.2f", 100 * v);
    }

    private static String fmt(double v, int digits) {
        return String.format("%." + digits + "f", v);
    }
}
