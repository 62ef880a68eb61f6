package org.sparkslim.jobs.quantization;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.FakeQuantize;
import org.sparkslim.compression.quant.LayerError;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.report.MarkdownTable;
import org.sparkslim.jobs.report.QuantizationErrorChart;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.QuantSettings;
import org.sparkslim.jobs.spark.DistributedCalibration;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.QuantizationTables;

/**
 * What the {@code quant} section says, shared by QAT and post-training quantization: the
 * quantization scheme, the calibration images, and the two tables both stages write
 * ({@code ranges.parquet}, {@code layer-errors.parquet}).
 */
public final class QuantizationSetup {

    private QuantizationSetup() {
    }

    /** The float model of a stage; a model that is already quantized is refused. */
    public static ModelCheckpoint.Loaded floatModel(StageContext<?> ctx, String key, String stage) throws Exception {
        ModelCheckpoint.Loaded model = ModelCheckpoint.loadSingle(ctx, stage);
        if (FakeQuantization.isQuantized(model.net())) {
            throw new ConfigException(key + " = " + stage + ": that stage's model is already quantized; name a float model");
        }
        return model;
    }

    /** The first {@code quant.calibration-images} val images, spread over the cluster. */
    public static Dataset<Row> calibrationImages(StageContext<?> ctx, QuantSettings quant) {
        Dataset<Row> val = ctx.spark().read().parquet(ctx.input("prepare-data") + "/" + ImageTable.file("val"));
        return val.orderBy(ImageTable.ID).limit(quant.calibrationImages())
                .repartition(ctx.spark().sparkContext().defaultParallelism());
    }

    /**
     * Measures and writes the per-layer error of {@code quantized} against {@code reference}, its float
     * twin ({@code FakeQuantization.strip}), worst first.
     */
    public static List<LayerError> writeLayerErrors(StageContext<?> ctx, QuantSettings quant, DataSettings data,
                                             Dataset<Row> calibration, ComputationGraph reference,
                                             ComputationGraph quantized) {
        ctx.describe("per-layer quantization error on " + quant.calibrationImages() + " calibration images");
        List<LayerError> errors = new ArrayList<>(DistributedCalibration.layerErrors(calibration, reference, quantized,
                data.assembler(), quant.batchSize(), quant.threadsPerTask()));
        errors.sort(Comparator.comparingDouble(LayerError::sqnrDb));
        QuantizationTables.LAYER_ERRORS.write(ctx, errors.stream()
                .map(e -> new QuantizationTables.LayerSqnr(e.layer(), e.sqnrDb(), e.cosine(), e.values())).toList());
        return errors;
    }

    public static void writeRanges(StageContext<?> ctx, ComputationGraph quantized) {
        List<QuantizationTables.Range> rows = new ArrayList<>();
        for (Map.Entry<String, FakeQuantize> e : FakeQuantization.quantizers(quantized).entrySet()) {
            FakeQuantize q = e.getValue();
            rows.add(new QuantizationTables.Range(e.getKey(), FakeQuantization.tensorOf(quantized, e.getKey()),
                    q.grid().signed(), q.range(), q.scale()));
        }
        QuantizationTables.RANGES.write(ctx, rows);
    }

    /**
     * A quantizing stage's report section: each layer's error against the float network, worst first.
     * DL4J runs the fake-quantized network (a float simulation); the int8 model's latency is the export's.
     */
    public static void reportErrors(Report report, String stage, Path checkpoint) throws IOException {
        MarkdownTable errors = new MarkdownTable("layer", "SQNR dB", "cosine");
        List<QuantizationTables.LayerSqnr> inNetworkOrder = QuantizationTables.LAYER_ERRORS.read(report.spark(), checkpoint);
        List<QuantizationTables.LayerSqnr> worstFirst = new ArrayList<>(inNetworkOrder);
        worstFirst.sort(Comparator.comparingDouble(QuantizationTables.LayerSqnr::sqnrDb));
        for (QuantizationTables.LayerSqnr e : worstFirst) {
            errors.row(e.layer(), Report.decimal(e.sqnrDb(), 1), Report.decimal(e.cosine(), 5));
        }
        report.heading("Quantization error per layer (`" + stage + "`, worst first)")
                .paragraph("The DL4J latency of `" + stage + "` in the metrics is the fake-quantized network, a float "
                        + "simulation of the int8 model; the int8 model's own latency is in the ONNX exports.")
                .image(stage + "-quantization-error.png", "quantization error per layer",
                        QuantizationErrorChart.png(inNetworkOrder))
                .table(errors);
    }

    public static String summary(List<LayerError> errors) {
        if (errors.isEmpty()) {
            return "no quantized layers";
        }
        LayerError worst = errors.get(0);
        return String.format("%d quantized layers; worst %s at %.1f dB SQNR (cosine %.4f)", errors.size(), worst.layer(),
                worst.sqnrDb(), worst.cosine());
    }
}
