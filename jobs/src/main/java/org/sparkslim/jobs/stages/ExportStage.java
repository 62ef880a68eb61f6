package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.onnx.Int8OnnxExporter;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.train.ClassificationMetrics;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.onnx.OnnxRuntimeModel;
import org.sparkslim.jobs.pipeline.RunDirectory;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;
import org.sparkslim.jobs.spark.ModelRecord;
import org.sparkslim.jobs.spark.Tables;
import org.sparkslim.jobs.spark.ValidationImages;

/**
 * Writes the models of {@code export.models} as ONNX and proves each file in ONNX Runtime. A float
 * model becomes {@code <stage>-<model>.onnx}; its outputs on the first {@code export.check-images}
 * test images must match DL4J's within {@code export.tolerance}. A quantized model (from {@code qat}
 * or {@code ptq}) becomes {@code <stage>-<model>-int8.onnx}; its test top-1 in ONNX Runtime must be
 * within {@code export.int8-top1-tolerance} points of the fake-quantized network's in DL4J. Then all
 * exports are timed in ONNX Runtime, taking turns, with {@code export.latency.threads} threads.
 * Writes {@code exports.parquet}.
 */
public final class ExportStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(ExportStage.class);
    static final StructType EXPORTS = new StructType()
            .add("stage", DataTypes.StringType, false)
            .add("model", DataTypes.StringType, false)
            .add("format", DataTypes.StringType, false)
            .add("file", DataTypes.StringType, false)
            .add("bytes", DataTypes.LongType, false)
            .add("sha256", DataTypes.StringType, false)
            .add("checked_images", DataTypes.IntegerType, false)
            .add("max_abs_diff", DataTypes.DoubleType, false)
            .add("top1_agreement", DataTypes.DoubleType, false)
            .add("test_images", DataTypes.IntegerType, true)
            .add("onnx_top1", DataTypes.DoubleType, true)
            .add("dl4j_top1", DataTypes.DoubleType, true)
            .add("latency_ms", DataTypes.createMapType(DataTypes.IntegerType, DataTypes.DoubleType), false);

    @Override
    public String name() {
        return "export";
    }

    @Override
    public String description() {
        return "write models as ONNX (float, or int8 for quantized ones) and check each in ONNX Runtime";
    }

    @Override
    public List<String> configPaths() {
        return List.of("export", "data.image", "data.num-classes", "data.normalization");
    }

    @Override
    public List<String> inputs(Config config) {
        List<String> inputs = new ArrayList<>();
        inputs.add("prepare-data");
        for (String stage : config.getStringList("export.models")) {
            if (RunDirectory.isOtherRun(stage)) {
                // exports are named after their stage: <stage>-<model>.onnx
                throw new ConfigException("export.models: '" + stage + "' is a path; name stages of this run");
            }
            inputs.add(stage);
        }
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of("<stage>-<model>.onnx", "<stage>-<model>-int8.onnx", "exports.parquet");
    }

    /** One written export, open in ONNX Runtime until it has been timed. */
    private record Export(ModelRecord record, String stage, String format, String file, byte[] onnx, Check check,
                          OnnxRuntimeModel runtime) {
    }

    private record Check(int images, double maxDiff, double agreement, Integer testImages, Double onnxTop1, Double dl4jTop1) {
    }

    /** The images exports are checked on: a few for output differences, a whole split for int8 top-1. */
    private static final class CheckImages {
        private final StageContext ctx;
        private final BatchAssembler assembler;
        private final String testSplit;
        private final LabeledImages few;
        private final INDArray fewFeatures;
        private LabeledImages int8Split;

        CheckImages(StageContext ctx) {
            this.ctx = ctx;
            this.assembler = ImageTable.assembler(ctx.config());
            this.testSplit = ctx.input("prepare-data") + "/" + ImageTable.file("test");
            this.few = ValidationImages.firstN(ctx.spark(), testSplit, assembler.shape(),
                    ctx.config().getInt("export.check-images"));
            this.fewFeatures = assembler.features(images(few, 0, few.size()));
        }

        LabeledImages int8Split() {
            if (int8Split == null) {
                int8Split = ValidationImages.firstN(ctx.spark(), testSplit, assembler.shape(),
                        ctx.config().getInt("export.int8-check-images"));
            }
            return int8Split;
        }
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        CheckImages images = new CheckImages(ctx);
        List<Export> exports = new ArrayList<>();
        try {
            for (String stage : ctx.config().getStringList("export.models")) {
                for (ModelRecord record : ModelCheckpoint.read(ctx.spark(), ctx.run(), stage)) {
                    exports.add(export(ctx, images, stage, record));
                }
            }
            Tables.write(ctx.spark(), ctx.output("exports.parquet"), EXPORTS, rows(ctx, exports, images));
        } finally {
            for (Export e : exports) {
                e.runtime().close();
            }
        }
    }

    /** Writes one model as ONNX once ONNX Runtime has run it as the checks require. */
    private static Export export(StageContext ctx, CheckImages images, String stage, ModelRecord record) throws Exception {
        Config c = ctx.config();
        ModelCheckpoint.Loaded model = ModelCheckpoint.load(ctx.run(), stage, record);
        boolean int8 = FakeQuantization.isQuantized(model.net());
        String id = stage + "/" + record.name();
        ctx.describe("exporting " + id + " to " + (int8 ? "int8" : "float") + " ONNX");
        byte[] onnx = int8 ? int8Export(stage, model, images.assembler)
                : OnnxExporter.export(model.net(), images.assembler.shape());
        OnnxRuntimeModel runtime = new OnnxRuntimeModel(onnx, c.getInt("export.latency.threads"));
        try {
            Check check = compare(model.net(), runtime, images.fewFeatures);
            if (int8) {
                check = withTestTop1(check, model.net(), runtime, images.int8Split(), images.assembler);
                double gap = 100 * Math.abs(check.onnxTop1() - check.dl4jTop1());
                if (gap > c.getDouble("export.int8-top1-tolerance")) {
                    throw new IllegalStateException(id + ": the int8 model's test top-1 in ONNX Runtime ("
                            + pct(check.onnxTop1()) + "%) is " + String.format("%.2f", gap) + " points from the "
                            + "fake-quantized network's in DL4J (" + pct(check.dl4jTop1())
                            + "%), more than export.int8-top1-tolerance");
                }
            } else if (check.maxDiff() > c.getDouble("export.tolerance")) {
                throw new IllegalStateException(id + ": ONNX Runtime's outputs differ from DL4J's by " + check.maxDiff()
                        + " (more than export.tolerance = " + c.getDouble("export.tolerance") + ")");
            }
            String file = stage + "-" + record.name() + (int8 ? "-int8" : "") + ".onnx";
            ctx.run().writeAtomically(ctx.output(file), onnx);
            LOG.info(String.format("%s: %d bytes; on %d test images max |ONNX Runtime - DL4J| %.2e, top-1 agreement %s%%%s",
                    file, onnx.length, check.images(), check.maxDiff(), pct(check.agreement()),
                    int8 ? String.format("; test top-1 ONNX Runtime %s%% vs DL4J %s%% on %d images",
                            pct(check.onnxTop1()), pct(check.dl4jTop1()), check.testImages()) : ""));
            return new Export(record, stage, int8 ? "onnx-int8" : "onnx-float", file, onnx, check, runtime);
        } catch (Exception e) {
            runtime.close();
            throw e;
        }
    }

    private static byte[] int8Export(String stage, ModelCheckpoint.Loaded model, BatchAssembler assembler) {
        try {
            return Int8OnnxExporter.export(model.net(), assembler.shape());
        } catch (IllegalArgumentException e) {
            // e.g. activations of fewer than 8 bits: fine to train and evaluate, not an int8 model
            throw new ConfigException("export.models: " + stage + "/" + model.record().name() + ": " + e.getMessage()
                    + " (see quant.activation-bits)", e);
        }
    }

    /** Times every export at each configured batch size, the models taking turns. */
    private static List<Row> rows(StageContext ctx, List<Export> exports, CheckImages images) throws Exception {
        Config c = ctx.config();
        Map<Integer, double[]> latency = new LinkedHashMap<>();
        List<OnnxRuntimeModel> runtimes = exports.stream().map(Export::runtime).toList();
        for (int batch : c.getIntList("export.latency.batch-sizes")) {
            ctx.describe("ONNX Runtime latency at batch " + batch + " (" + c.getInt("export.latency.threads") + " thread(s))");
            INDArray input = images.assembler.features(cycled(images.few, batch));
            latency.put(batch, OnnxRuntimeModel.interleavedMedianMillis(runtimes, input, c.getInt("export.latency.warmup"),
                    c.getInt("export.latency.runs")));
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < exports.size(); i++) {
            Export e = exports.get(i);
            Map<Integer, Double> millis = new LinkedHashMap<>();
            final int index = i;
            latency.forEach((batch, medians) -> millis.put(batch, medians[index]));
            LOG.info("{}: ONNX Runtime latency {}", e.file(), ReportStage.latency(millis));
            Check k = e.check();
            rows.add(RowFactory.create(e.stage(), e.record().name(), e.format(), e.file(), (long) e.onnx().length,
                    ModelFiles.sha256(e.onnx()), k.images(), k.maxDiff(), k.agreement(), k.testImages(), k.onnxTop1(),
                    k.dl4jTop1(), scala.collection.JavaConverters.mapAsScalaMap(millis)));
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
}
