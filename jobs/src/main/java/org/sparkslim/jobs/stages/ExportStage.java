package org.sparkslim.jobs.stages;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.typesafe.config.Config;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.onnx.OnnxExporter;
import org.sparkslim.compression.train.ClassificationMetrics;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;
import org.sparkslim.jobs.spark.ModelRecord;
import org.sparkslim.jobs.spark.Tables;
import org.sparkslim.jobs.spark.ValidationImages;

/**
 * Writes the models of {@code export.models} as ONNX ({@code <stage>-<model>.onnx}) and proves each
 * file with ONNX Runtime: the first {@code export.check-images} test images go through both runtimes
 * and the largest output difference is recorded (the stage fails above {@code export.tolerance}). Writes
 * {@code exports.parquet}.
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
            .add("top1_agreement", DataTypes.DoubleType, false);

    @Override
    public String name() {
        return "export";
    }

    @Override
    public String description() {
        return "write models as ONNX and check each in ONNX Runtime against DL4J";
    }

    @Override
    public List<String> configPaths() {
        return List.of("export", "data.image", "data.num-classes", "data.normalization");
    }

    @Override
    public List<String> inputs(Config config) {
        List<String> inputs = new ArrayList<>();
        inputs.add("prepare-data");
        inputs.addAll(config.getStringList("export.models"));
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of("<stage>-<model>.onnx", "exports.parquet");
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        Config c = ctx.config();
        BatchAssembler assembler = ImageTable.assembler(c);
        LabeledImages check = ValidationImages.firstN(ctx.spark(), ctx.input("prepare-data") + "/" + ImageTable.file("test"),
                assembler.shape(), c.getInt("export.check-images"));
        List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < check.size(); i++) {
            images.add(check.image(i));
        }
        INDArray x = assembler.features(images);
        double tolerance = c.getDouble("export.tolerance");
        List<Row> rows = new ArrayList<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        for (String stage : c.getStringList("export.models")) {
            for (ModelRecord record : ModelCheckpoint.read(ctx.spark(), ctx.run(), stage)) {
                ctx.describe("exporting " + stage + "/" + record.name() + " to ONNX");
                ModelCheckpoint.Loaded model = ModelCheckpoint.load(ctx.run(), stage, record);
                byte[] onnx = OnnxExporter.export(model.net(), assembler.shape());
                float[][] expected = model.net().outputSingle(false, x).toFloatMatrix();
                float[][] actual;
                try (OrtSession session = env.createSession(onnx, new OrtSession.SessionOptions());
                     OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.dup('c').data().asFloat()),
                             x.shape());
                     OrtSession.Result result = session.run(Map.of(OnnxExporter.INPUT, input))) {
                    actual = (float[][]) result.get(0).getValue();
                }
                double maxDiff = 0;
                int agree = 0;
                for (int i = 0; i < expected.length; i++) {
                    for (int j = 0; j < expected[i].length; j++) {
                        maxDiff = Math.max(maxDiff, Math.abs(expected[i][j] - actual[i][j]));
                    }
                    agree += ClassificationMetrics.argMax(expected[i]) == ClassificationMetrics.argMax(actual[i]) ? 1 : 0;
                }
                if (maxDiff > tolerance) {
                    throw new IllegalStateException(stage + "/" + record.name() + ": ONNX Runtime's outputs differ from "
                            + "DL4J's by " + maxDiff + " (more than export.tolerance = " + tolerance + ")");
                }
                String file = stage + "-" + record.name() + ".onnx";
                ctx.run().writeAtomically(ctx.output(file), onnx);
                LOG.info(String.format("%s: %d bytes, ONNX Runtime agrees with DL4J on %d test images (max |diff| %.2e)",
                        file, onnx.length, check.size(), maxDiff));
                rows.add(RowFactory.create(stage, record.name(), "onnx-float", file, (long) onnx.length,
                        ModelFiles.sha256(onnx), check.size(), maxDiff, agree / (double) check.size()));
            }
        }
        Tables.write(ctx.spark(), ctx.output("exports.parquet"), EXPORTS, rows);
    }
}
