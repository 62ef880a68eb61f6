package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.quant.ActivationRange;
import org.sparkslim.compression.quant.ActivationStatistics;
import org.sparkslim.compression.quant.Calibration;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.QuantizationConfig;
import org.sparkslim.compression.quant.RangeFreezing;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.quantization.QuantizationSetup;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.QuantSettings;
import org.sparkslim.jobs.spark.DistributedCalibration;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.QuantizationTables;

/**
 * Post-training quantization: folds the float model's batch norms, quantizes its weights per
 * {@code quant.weights}, and sets each activation range from a histogram of the float activations on
 * {@code quant.calibration-images} val images with the {@code ptq.calibration} method. The histograms
 * are built in parallel, one partial per partition, and merged.
 */
public final class PtqStage implements Stage<PtqStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(PtqStage.class);

    /** @param percentile the fraction of values a {@code percentile} range covers (else NaN) */
    public record Settings(String model, QuantSettings quant, QuantizationConfig scheme, Calibration calibration,
                           double percentile, int histogramBins, DataSettings data) {
    }

    @Override
    public String name() {
        return "ptq";
    }

    @Override
    public String description() {
        return "post-training quantization of the model of ptq.model, calibrated on val images";
    }

    @Override
    public Settings settings(SettingsReader r) {
        String model = r.nonEmpty("ptq.model", "name the stage whose float model is quantized");
        QuantSettings quant = QuantSettings.read(r);
        // the ranges are calibrated; how they would be tracked in training does not matter here
        QuantizationConfig scheme = quant.weights() == null ? null
                : r.check("quant", () -> quant.scheme(ActivationRange.MOVING_AVERAGE_ABS_MAX, 0.9, 1));
        Calibration calibration = r.parsed("ptq.calibration", Calibration::parse);
        double percentile = calibration == Calibration.PERCENTILE
                ? r.number("ptq.percentile", new Range(0, true, 1, false)) : Double.NaN;
        return new Settings(model, quant, scheme, calibration, percentile,
                r.integer("ptq.histogram-bins", Range.atLeast(8)), DataSettings.read(r));
    }

    @Override
    public List<String> inputs(Settings s) {
        return List.of("prepare-data", s.model());
    }

    @Override
    public List<String> outputs(Settings settings) {
        return ModelCheckpoint.singleModelOutputs(QuantizationTables.RANGES.file(),
                QuantizationTables.LAYER_ERRORS.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        ModelCheckpoint.Loaded model = QuantizationSetup.floatModel(ctx, "ptq.model", s.model());
        ComputationGraph net = FakeQuantization.insert(model.net(), s.scheme());

        Dataset<Row> images = QuantizationSetup.calibrationImages(ctx, s.quant());
        ctx.describe("activation histograms of " + s.quant().calibrationImages() + " calibration images");
        ComputationGraph reference = FakeQuantization.strip(net);
        ActivationStatistics stats = DistributedCalibration.statistics(images, reference,
                RangeFreezing.tensors(net), s.histogramBins(), s.data().assembler(), s.quant().batchSize(),
                s.quant().threadsPerTask());
        RangeFreezing.calibrate(net, stats, s.calibration(), s.percentile());
        LOG.info("ptq ({}): {}", s.calibration().name().toLowerCase(),
                QuantizationSetup.summary(QuantizationSetup.writeLayerErrors(ctx, s.quant(), s.data(), images, reference,
                        net)));
        QuantizationSetup.writeRanges(ctx, net);
        ModelCheckpoint.writeSingle(ctx, net, model.record().family(), model.record().widths(),
                s.data().shape());
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) throws IOException {
        QuantizationSetup.reportErrors(report, stage, checkpoint);
    }
}
