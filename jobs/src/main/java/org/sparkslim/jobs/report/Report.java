package org.sparkslim.jobs.report;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.sparkslim.jobs.pipeline.RunDirectory;

/** The run's Markdown report as it is written: sections in order, images beside it. */
public final class Report {
    private final SparkSession spark;
    private final RunDirectory run;
    private final Path directory;
    private final StringBuilder markdown = new StringBuilder();

    /** @param directory where the report and its images are written */
    public Report(SparkSession spark, RunDirectory run, Path directory) {
        this.spark = spark;
        this.run = run;
        this.directory = directory;
    }

    public SparkSession spark() {
        return spark;
    }

    public RunDirectory run() {
        return run;
    }

    public Report title(String title) {
        markdown.append("# ").append(title).append("\n\n");
        return this;
    }

    public Report heading(String heading) {
        markdown.append("## ").append(heading).append("\n\n");
        return this;
    }

    /** Text as it is; lines ending in two spaces break without a new paragraph. */
    public Report text(String text) {
        markdown.append(text);
        return this;
    }

    public Report paragraph(String text) {
        markdown.append(text).append("\n\n");
        return this;
    }

    public Report table(MarkdownTable table) {
        markdown.append(table).append('\n');
        return this;
    }

    /** Writes a PNG beside the report and shows it. */
    public Report image(String file, String alt, byte[] png) throws IOException {
        run.writeAtomically(new Path(directory, file), png);
        markdown.append("![").append(alt).append("](").append(file).append(")\n\n");
        return this;
    }

    public String markdown() {
        return markdown.toString();
    }

    /** "1.34 (1), 28.36 (64)": median milliseconds by batch size. */
    public static String latency(Map<Integer, Double> millisByBatch) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(millisByBatch).forEach((batch, millis) -> sb.append(sb.length() == 0 ? "" : ", ")
                .append(String.format(Locale.ROOT, "%.2f (%d)", millis, batch)));
        return sb.toString();
    }

    /** "0.82x (1), 0.65x (64)": each batch size's latency as a ratio to the base's. */
    public static String latencyRatios(Map<Integer, Double> millisByBatch, Map<Integer, Double> base) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(millisByBatch).forEach((batch, ms) -> sb.append(sb.length() == 0 ? "" : ", ")
                .append(String.format(Locale.ROOT, "%.2fx (%d)", ms / base.get(batch), batch)));
        return sb.toString();
    }

    public static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.2f", 100 * fraction);
    }

    public static String decimal(double value, int digits) {
        return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%." + digits + "f", value);
    }
}
