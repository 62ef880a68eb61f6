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

    @Override
    public List<String> inputs(Config config) {
        List<String> inputs = new ArrayList<>();
        inputs.add("evaluate");
        inputs.addAll(config.getStringList("evaluate.models"));
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of(REPORT);
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
