package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.onnx.Int8OnnxExporter;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.compression.onnx.QdqOnnxExporter;
import org.sparkslim.compression.onnx.UnsupportedLayerException;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.train.ClassificationMetrics;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.onnx.OnnxRuntimeModel;
import org.sparkslim.jobs.pipeline.RunDirectory;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.report.MarkdownTable;
import org.sparkslim.jobs.report.ModelCharts;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.LatencySettings;
import org.sparkslim.jobs.spark.ValidationImages;
import org.sparkslim.jobs.tables.ExportsTable;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.ModelRecord;

/**
 * Writes the models of {@code export.models} as ONNX and proves each file in ONNX Runtime. A float
 * model becomes {@code <stage>-<model>.onnx}; its outputs on the first {@code export.check-images}
 * test images must match DL4J's within {@code export.tolerance}. A quantized model (from {@code qat}
 * or {@code ptq}) becomes {@code <stage>-<model>-int8.onnx} (QOperator form; {@code -int8-qdq.onnx} in
 * QDQ form with {@code export.int8-format = qdq}); its test top-1 in ONNX Runtime must be
 * within {@code export.int8-top1-tolerance} points of the fake-quantized network's in DL4J. Then all
 * exports are timed in ONNX Runtime, taking turns, with {@code export.latency.threads} threads.
 * Writes {@code exports.parquet}.
 */
public final class ExportStage implements Stage<ExportStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(ExportStage.class);

    /**
     * @param int8CheckImages test images both runtimes classify for an int8 export (0: the whole split)
     */
    public record Settings(List<String> models, int checkImages, double tolerance, int int8CheckImages,
                           double int8Top1Tolerance, boolean qdq, LatencySettings latency, DataSettings data) {
    }

    @Override
    public String name() {
        return "export";
    }

    @Override
    public String description() {
        return "write models as ONNX (float, or int8 for quantized ones) and check each in ONNX Runtime";
    }

    @Override
    public Settings settings(SettingsReader r) {
        List<String> models = r.nonEmptyStrings("export.models", "name the stages whose models to export, e.g. [train]");
        for (String stage : models) {
            if (RunDirectory.isOtherRun(stage)) {
                // exports are named after their stage: <stage>-<model>.onnx
                r.fault("export.models", "'" + stage + "' is a path; name stages of this run");
            }
        }
        return new Settings(models, r.integer("export.check-images", Range.atLeast(1)),
                r.number("export.tolerance", Range.POSITIVE), r.integer("export.int8-check-images", Range.NON_NEGATIVE),
                r.number("export.int8-top1-tolerance", Range.NON_NEGATIVE),
                r.choice("export.int8-format", List.of("qoperator", "qdq")).equals("qdq"),
                LatencySettings.read(r, "export"), DataSettings.read(r));
    }

    @Override
    public List<String> inputs(Settings s) {
        return Stream.concat(Stream.of("prepare-data"), s.models().stream()).toList();
    }

    @Override
    public List<String> outputs(Settings settings) {
        return List.of(ExportsTable.TABLE.file()); // and <stage>-<model>[-int8].onnx per model
    }

    /** One written export, open in ONNX Runtime until it has been timed. */
    private record Written(ModelRecord record, String stage, String format, String file, byte[] onnx, Check check,
                          OnnxRuntimeModel runtime) {
    }

    private record Check(int images, double maxDiff, double agreement, Integer testImages, Double onnxTop1, Double dl4jTop1) {
    }

    /** The images exports are checked on: a few for output differences, a whole split for int8 top-1. */
    private static final class CheckImages {
        private final StageContext<Settings> ctx;
        private final BatchAssembler assembler;
        private final String testSplit;
        private final LabeledImages few;
        private final INDArray fewFeatures;
        private LabeledImages int8Split;

        CheckImages(StageContext<Settings> ctx) {
            this.ctx = ctx;
            this.assembler = ctx.settings().data().assembler();
            this.testSplit = ctx.input("prepare-data") + "/" + ImageTable.file("test");
            this.few = ValidationImages.firstN(ctx.spark(), testSplit, assembler.shape(),
                    ctx.settings().checkImages());
            this.fewFeatures = assembler.features(images(few, 0, few.size()));
        }

        LabeledImages int8Split() {
            if (int8Split == null) {
                int8Split = ValidationImages.firstN(ctx.spark(), testSplit, assembler.shape(),
                        ctx.settings().int8CheckImages());
            }
            return int8Split;
        }
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        CheckImages images = new CheckImages(ctx);
        List<Written> exports = new ArrayList<>();
        try {
            for (String stage : ctx.settings().models()) {
                for (ModelRecord record : ModelCheckpoint.read(ctx.spark(), ctx.run(), stage)) {
                    exports.add(export(ctx, images, stage, record));
                }
            }
            ExportsTable.TABLE.write(ctx, rows(ctx, exports, images));
        } finally {
            for (Written e : exports) {
                e.runtime().close();
            }
        }
    }

    /** Writes one model as ONNX once ONNX Runtime has run it as the checks require. */
    private static Written export(StageContext<Settings> ctx, CheckImages images, String stage, ModelRecord record)
            throws Exception {
        Settings s = ctx.settings();
        ModelCheckpoint.Loaded model = ModelCheckpoint.load(ctx.run(), stage, record);
        boolean int8 = FakeQuantization.isQuantized(model.net());
        String id = stage + "/" + record.name();
        ctx.describe("exporting " + id + " to " + (int8 ? "int8" : "float") + " ONNX");
        byte[] onnx;
        try {
            onnx = int8 ? int8Export(stage, model, images.assembler, s.qdq())
                    : OnnxExporter.export(model.net(), images.assembler.shape());
        } catch (UnsupportedLayerException e) {
            throw new ConfigException("export.models: " + id + ": " + e.getMessage(), e);
        }
        OnnxRuntimeModel runtime = new OnnxRuntimeModel(onnx, s.latency().threads());
        try {
            Check check = compare(model.net(), runtime, images.fewFeatures);
            if (int8) {
                check = withTestTop1(check, model.net(), runtime, images.int8Split(), images.assembler);
                double gap = 100 * Math.abs(check.onnxTop1() - check.dl4jTop1());
                // one image's answer is the finest difference a split can show: a small split may differ by it
                double allowed = Math.max(s.int8Top1Tolerance(), 100.0 / check.testImages() + 1e-9);
                if (!(gap <= allowed)) {
                    throw new IllegalStateException(id + ": the int8 model's test top-1 in ONNX Runtime ("
                            + pct(check.onnxTop1()) + "%) is " + String.format("%.2f", gap) + " points from the "
                            + "fake-quantized network's in DL4J (" + pct(check.dl4jTop1()) + "%) on "
                            + check.testImages() + " images, more than export.int8-top1-tolerance or one image");
                }
            } else if (!(check.maxDiff() <= s.tolerance())) { // NaN fails too
                throw new IllegalStateException(id + ": ONNX Runtime's outputs differ from DL4J's by " + check.maxDiff()
                        + " (more than export.tolerance = " + s.tolerance() + ")");
            }
            String form = !int8 ? "" : s.qdq() ? "-int8-qdq" : "-int8";
            String format = int8 ? "onnx" + form : "onnx-float";
            String file = stage + "-" + record.name() + form + ".onnx";
            ctx.run().writeAtomically(ctx.output(file), onnx);
            LOG.info(String.format("%s: %d bytes; on %d test images max |ONNX Runtime - DL4J| %.2e, top-1 agreement %s%%%s",
                    file, onnx.length, check.images(), check.maxDiff(), pct(check.agreement()),
                    int8 ? String.format("; test top-1 ONNX Runtime %s%% vs DL4J %s%% on %d images",
                            pct(check.onnxTop1()), pct(check.dl4jTop1()), check.testImages()) : ""));
            return new Written(record, stage, format, file, onnx, check, runtime);
        } catch (Exception e) {
            runtime.close();
            throw e;
        }
    }

    private static byte[] int8Export(String stage, ModelCheckpoint.Loaded model, BatchAssembler assembler, boolean qdq) {
        try {
            return qdq ? QdqOnnxExporter.export(model.net(), assembler.shape())
                    : Int8OnnxExporter.export(model.net(), assembler.shape());
        } catch (UnsupportedLayerException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            // e.g. activations of fewer than 8 bits: fine to train and evaluate, not an int8 model
            throw new ConfigException("export.models: " + stage + "/" + model.record().name() + ": " + e.getMessage()
                    + " (see quant.activation-bits)", e);
        }
    }

    /** Times every export at each configured batch size, the models taking turns. */
    private static List<ExportsTable.Export> rows(StageContext<Settings> ctx, List<Written> exports, CheckImages images)
            throws Exception {
        LatencySettings timing = ctx.settings().latency();
        Map<Integer, double[]> latency = new LinkedHashMap<>();
        List<OnnxRuntimeModel> runtimes = exports.stream().map(Written::runtime).toList();
        for (int batch : timing.batchSizes()) {
            ctx.describe("ONNX Runtime latency at batch " + batch + " (" + timing.threads() + " thread(s))");
            INDArray input = images.assembler.features(cycled(images.few, batch));
            latency.put(batch, OnnxRuntimeModel.interleavedMedianMillis(runtimes, input, timing.warmup(),
                    timing.runs()));
        }
        List<ExportsTable.Export> rows = new ArrayList<>();
        for (int i = 0; i < exports.size(); i++) {
            Written e = exports.get(i);
            Map<Integer, Double> millis = new LinkedHashMap<>();
            final int index = i;
            latency.forEach((batch, medians) -> millis.put(batch, medians[index]));
            LOG.info("{}: ONNX Runtime latency {}", e.file(), Report.latency(millis));
            Check k = e.check();
            rows.add(new ExportsTable.Export(e.stage(), e.record().name(), e.format(), e.file(), e.onnx().length,
                    ModelFiles.sha256(e.onnx()), k.images(), k.maxDiff(), k.agreement(), k.testImages(), k.onnxTop1(),
                    k.dl4jTop1(), millis));
        }
        return rows;
    }

    /** The first {@code n} images, starting over when there are fewer. */
    private static List<byte[]> cycled(LabeledImages images, int n) {
        List<byte[]> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(images.image(i % images.size()));
        }
        return list;
    }

    /** Largest output difference and top-1 agreement of both runtimes on {@code x}. */
    private static Check compare(ComputationGraph net, OnnxRuntimeModel runtime, INDArray x) throws Exception {
        float[][] expected = net.outputSingle(false, x).toFloatMatrix();
        float[][] actual = runtime.predict(x);
        double maxDiff = 0;
        int agree = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                maxDiff = Math.max(maxDiff, Math.abs(expected[i][j] - actual[i][j]));
            }
            agree += ClassificationMetrics.argMax(expected[i]) == ClassificationMetrics.argMax(actual[i]) ? 1 : 0;
        }
        return new Check(expected.length, maxDiff, agree / (double) expected.length, null, null, null);
    }

    /** Adds the test top-1 of both runtimes on {@code images}. */
    private static Check withTestTop1(Check check, ComputationGraph net, OnnxRuntimeModel runtime, LabeledImages images,
                                      BatchAssembler assembler) throws Exception {
        int onnxCorrect = 0;
        int dl4jCorrect = 0;
        for (int from = 0; from < images.size(); from += 500) {
            int to = Math.min(images.size(), from + 500);
            INDArray x = assembler.features(images(images, from, to));
            float[][] dl4j = net.outputSingle(false, x).toFloatMatrix();
            float[][] onnx = runtime.predict(x);
            for (int i = 0; i < dl4j.length; i++) {
                int label = images.labels()[from + i];
                dl4jCorrect += ClassificationMetrics.argMax(dl4j[i]) == label ? 1 : 0;
                onnxCorrect += ClassificationMetrics.argMax(onnx[i]) == label ? 1 : 0;
            }
        }
        return new Check(check.images(), check.maxDiff(), check.agreement(), images.size(),
                onnxCorrect / (double) images.size(), dl4jCorrect / (double) images.size());
    }

    private static List<byte[]> images(LabeledImages images, int from, int to) {
        List<byte[]> list = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            list.add(images.image(i));
        }
        return list;
    }

    private static String pct(double v) {
        return String.format("%.2f", 100 * v);
    }

    /**
     * The exports with their checks, and file size and ONNX Runtime latency relative to the first
     * float export (the model the others were compressed from, in the usual pipeline).
     */
    @Override
    public void report(Report report, String stage, Path checkpoint) throws IOException {
        List<ExportsTable.Export> exports = ExportsTable.TABLE.read(report.spark(), checkpoint);
        ExportsTable.Export base = exports.stream().filter(ExportsTable.Export::isFloat).findFirst().orElse(exports.get(0));
        MarkdownTable table = new MarkdownTable("file", "format", "bytes", "size vs " + base.file(),
                "max abs diff (top-1 agreement %) on checked images", "test top-1 % ONNX Runtime / DL4J",
                "ONNX Runtime latency ms (batch)", "latency vs " + base.file());
        for (ExportsTable.Export e : exports) {
            String top1 = e.onnxTop1() == null ? "" : Report.percent(e.onnxTop1()) + " / " + Report.percent(e.dl4jTop1())
                    + " (" + e.testImages() + " images)";
            table.row(e.file(), e.format(), e.bytes(), String.format("%.2fx smaller", base.bytes() / (double) e.bytes()),
                    String.format("%.2e (%s) on %d", e.maxAbsDiff(), Report.percent(e.top1Agreement()), e.checkedImages()),
                    top1, Report.latency(e.latencyMs()), Report.latencyRatios(e.latencyMs(), base.latencyMs()));
        }
        report.heading("ONNX exports (`" + stage + "`)").table(table);
        byte[] chart = ModelCharts.exportsTop1AgainstLatency(exports);
        if (chart != null) {
            report.image(stage + "-top1-latency.png", "test top-1 against ONNX Runtime latency", chart);
        }
    }
}
