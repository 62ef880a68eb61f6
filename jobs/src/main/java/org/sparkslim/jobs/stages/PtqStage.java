package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.quant.ActivationRange;
import org.sparkslim.compression.quant.ActivationStatistics;
import org.sparkslim.compression.quant.Calibration;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.RangeFreezing;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.DistributedCalibration;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;

/**
 * Post-training quantization: folds the float model's batch norms, quantizes its weights per
 * {@code quant.weights}, and sets each activation range from a histogram of the float activations on
 * {@code quant.calibration-images} val images with the {@code ptq.calibration} method. The histograms
 * are built in parallel, one partial per partition, and merged.
 */
public final class PtqStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(PtqStage.class);

    @Override
    public String name() {
        return "ptq";
    }

    @Override
    public String description() {
        return "post-training quantization of the model of ptq.model, calibrated on val images";
    }

    @Override
    public List<String> configPaths() {
        return List.of("data.image", "data.num-classes", "data.normalization", "quant", "ptq");
    }

    @Override
    public List<String> inputs(Config config) {
        List<String> inputs = new ArrayList<>();
        inputs.add("prepare-data");
        inputs.add(config.getString("ptq.model"));
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of("model.zip", "models.parquet", QuantizationSetup.RANGES, QuantizationSetup.LAYER_ERRORS);
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        Config c = ctx.config();
        Calibration calibration;
        try {
            calibration = Calibration.parse(c.getString("ptq.calibration"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("ptq.calibration: " + e.getMessage(), e);
        }
        double percentile = c.getDouble("ptq.percentile");
        if (!(percentile > 0 && percentile <= 1)) {
            throw new ConfigException("ptq.percentile must be in (0, 1], got " + percentile);
        }
        ModelCheckpoint.Loaded model = QuantizationSetup.floatModel(ctx, "ptq.model");
        // the ranges are calibrated below; the range source only matters for training
        ComputationGraph net = FakeQuantization.insert(model.net(),
                QuantizationSetup.config(c, ActivationRange.MOVING_AVERAGE_ABS_MAX, 0.9, 1));

        Dataset<Row> images = QuantizationSetup.calibrationImages(ctx);
        ctx.describe("activation histograms of " + c.getInt("quant.calibration-images") + " calibration images");
        ComputationGraph reference = FakeQuantization.strip(net);
        ActivationStatistics stats = DistributedCalibration.statistics(images, reference,
                RangeFreezing.tensors(net), c.getInt("ptq.histogram-bins"), ImageTable.assembler(c),
                c.getInt("quant.batch-size"), c.getInt("quant.threads-per-task"));
        RangeFreezing.calibrate(net, stats, calibration, percentile);
        LOG.info("ptq ({}): {}", calibration.name().toLowerCase(),
                QuantizationSetup.summary(QuantizationSetup.writeLayerErrors(ctx, images, reference, net)));
        QuantizationSetup.writeRanges(ctx, net);
        ModelCheckpoint.writeTable(ctx, List.of(ModelCheckpoint.writeModel(ctx, "model", net, model.record().family(),
                model.record().widths(), ImageTable.shape(c))));
    }
}
