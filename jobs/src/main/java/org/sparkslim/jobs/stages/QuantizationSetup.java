package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.quant.ActivationRange;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.FakeQuantize;
import org.sparkslim.compression.quant.LayerError;
import org.sparkslim.compression.quant.QuantizationConfig;
import org.sparkslim.compression.quant.WeightQuantizer;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.DistributedCalibration;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;
import org.sparkslim.jobs.spark.Tables;

/**
 * What the {@code quant} section says, shared by QAT and post-training quantization: the
 * quantization scheme, the calibration images, and the two tables both stages write
 * ({@code ranges.parquet}, {@code layer-errors.parquet}).
 */
final class QuantizationSetup {
    static final String RANGES = "ranges.parquet";
    static final String LAYER_ERRORS = "layer-errors.parquet";
    static final StructType RANGE_SCHEMA = new StructType()
            .add("quantizer", DataTypes.StringType, false)
            .add("tensor", DataTypes.StringType, false)
            .add("signed", DataTypes.BooleanType, false)
            .add("range", DataTypes.DoubleType, false)
            .add("scale", DataTypes.DoubleType, false);
    static final StructType ERROR_SCHEMA = new StructType()
            .add("layer", DataTypes.StringType, false)
            .add("sqnr_db", DataTypes.DoubleType, false)
            .add("cosine", DataTypes.DoubleType, false)
            .add("values", DataTypes.LongType, false);

    private QuantizationSetup() {
    }

    static QuantizationConfig config(Config c, ActivationRange activations, double rate, int window) {
        WeightQuantizer weights;
        try {
            weights = WeightQuantizer.parse(c.getString("quant.weights"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("quant.weights: " + e.getMessage(), e);
        }
        try {
            return new QuantizationConfig(weights, c.getInt("quant.weight-bits"), c.getInt("quant.activation-bits"),
                    activations, rate, window, c.getStringList("quant.skip"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("quant: " + e.getMessage(), e);
        }
    }

    /** The float model of {@code key}'s stage; a model that is already quantized is refused. */
    static ModelCheckpoint.Loaded floatModel(StageContext ctx, String key) throws Exception {
        String stage = ctx.config().getString(key);
        ModelCheckpoint.Loaded model = ModelCheckpoint.loadSingle(ctx, stage);
        if (FakeQuantization.isQuantized(model.net())) {
            throw new ConfigException(key + " = " + stage + ": that stage's model is already quantized; name a float model");
        }
        return model;
    }

    /** The first {@code quant.calibration-images} val images, spread over the cluster. */
    static Dataset<Row> calibrationImages(StageContext ctx) {
        int n = ctx.config().getInt("quant.calibration-images");
        if (n < 1) {
            throw new ConfigException("quant.calibration-images must be at least 1, got " + n);
        }
        Dataset<Row> val = ctx.spark().read().parquet(ctx.input("prepare-data") + "/" + ImageTable.file("val"));
        return val.orderBy(ImageTable.ID).limit(n).repartition(ctx.spark().sparkContext().defaultParallelism());
    }

    /**
     * Measures and writes the per-layer error of {@code quantized} against {@code reference}, its float
     * twin ({@code FakeQuantization.strip}), worst first.
     */
    static List<LayerError> writeLayerErrors(StageContext ctx, Dataset<Row> calibration, ComputationGraph reference,
                                             ComputationGraph quantized) {
        Config c = ctx.config();
        ctx.describe("per-layer quantization error on " + c.getInt("quant.calibration-images") + " calibration images");
        List<LayerError> errors = new ArrayList<>(DistributedCalibration.layerErrors(calibration, reference, quantized,
                ImageTable.assembler(c), c.getInt("quant.batch-size"), c.getInt("quant.threads-per-task")));
        errors.sort(Comparator.comparingDouble(LayerError::sqnrDb));
        List<Row> rows = new ArrayList<>();
        for (LayerError e : errors) {
            rows.add(RowFactory.create(e.layer(), e.sqnrDb(), e.cosine(), e.values()));
        }
        Tables.write(ctx.spark(), ctx.output(LAYER_ERRORS), ERROR_SCHEMA, rows);
        return errors;
    }

    static void writeRanges(StageContext ctx, ComputationGraph quantized) {
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, FakeQuantize> e : FakeQuantization.quantizers(quantized).entrySet()) {
            FakeQuantize q = e.getValue();
            rows.add(RowFactory.create(e.getKey(), FakeQuantization.tensorOf(quantized, e.getKey()), q.grid().signed(),
                    q.range(), q.scale()));
        }
        Tables.write(ctx.spark(), ctx.output(RANGES), RANGE_SCHEMA, rows);
    }

    static String summary(List<LayerError> errors) {
        if (errors.isEmpty()) {
            return "no quantized layers";
        }
        LayerError worst = errors.get(0);
        return String.format("%d quantized layers; worst %s at %.1f dB SQNR (cosine %.4f)", errors.size(), worst.layer(),
                worst.sqnrDb(), worst.cosine());
    }
}
