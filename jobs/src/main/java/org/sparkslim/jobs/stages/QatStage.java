package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.quant.ActivationRange;
import org.sparkslim.compression.quant.ActivationStatistics;
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
import org.sparkslim.jobs.settings.RecipeSettings;
import org.sparkslim.jobs.settings.TeacherSettings;
import org.sparkslim.jobs.spark.DistributedCalibration;
import org.sparkslim.jobs.tables.HistoryTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.QuantizationTables;
import org.sparkslim.jobs.training.ModelTraining;

/**
 * Quantization-aware training: folds the float model's batch norms, puts fake quantizers on its
 * weights and int8 tensors, fine-tunes it for {@code qat.epochs} (the {@code train} recipe at
 * {@code qat.learning-rate}), then freezes the activation ranges. The checkpoint is the
 * fake-quantized network, which the export stage writes as an int8 model. With {@code qat.teacher}
 * set, it learns from that teacher's soft labels (and the {@code distill} section's feature losses)
 * while quantizing.
 */
public final class QatStage implements Stage<QatStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(QatStage.class);

    public record Settings(String model, QuantSettings quant, QuantizationConfig scheme, int epochs,
                           double learningRate, RecipeSettings recipe, DataSettings data, long seed,
                           TeacherSettings teacher) {
    }

    @Override
    public String name() {
        return "qat";
    }

    @Override
    public String description() {
        return "quantization-aware fine-tuning of the model of qat.model";
    }

    @Override
    public Settings settings(SettingsReader r) {
        String model = r.nonEmpty("qat.model", "name the stage whose float model is quantized");
        QuantSettings quant = QuantSettings.read(r);
        ActivationRange activations = r.parsed("qat.activations", ActivationRange::parse);
        double rate = activations == ActivationRange.MOVING_AVERAGE_ABS_MAX
                ? r.number("qat.moving-average-rate", new Range(0, false, 1, true)) : 0.9;
        int window = activations == ActivationRange.WINDOW_ABS_MAX ? r.integer("qat.window", Range.atLeast(1)) : 1;
        QuantizationConfig scheme = activations == null || quant.weights() == null ? null
                : r.check("quant", () -> quant.scheme(activations, rate, window));
        RecipeSettings recipe = RecipeSettings.read(r);
        if (activations != null && activations != ActivationRange.DYNAMIC && !recipe.distributed().local()) {
            // the ranges live in each worker's copy of the layers, outside the parameters that are combined
            r.fault("qat.activations", "'" + activations.configName() + "' learns its ranges outside the parameters "
                    + "that " + recipe.distributed().mode().title() + " (train.distributed.mode) combines: use dynamic, "
                    + "or train locally");
        }
        TeacherSettings teacher = TeacherSettings.read(r, "qat.teacher");
        teacher.checkLocalSteps(r, recipe, "qat.teacher");
        return new Settings(model, quant, scheme, r.integer("qat.epochs", Range.atLeast(1)),
                r.number("qat.learning-rate", Range.POSITIVE), recipe, DataSettings.read(r), r.whole("run.seed"), teacher);
    }

    @Override
    public List<String> inputs(Settings s) {
        List<String> inputs = new ArrayList<>(Arrays.asList("prepare-data", s.model()));
        inputs.addAll(s.teacher().inputs());
        return inputs;
    }

    @Override
    public List<String> outputs(Settings settings) {
        return ModelCheckpoint.singleModelOutputs(HistoryTable.TABLE.file(), QuantizationTables.RANGES.file(),
                QuantizationTables.LAYER_ERRORS.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        QuantizationConfig scheme = s.scheme();
        ModelCheckpoint.Loaded model = QuantizationSetup.floatModel(ctx, "qat.model", s.model());
        ComputationGraph fakeQuantized = FakeQuantization.insert(model.net(), scheme);
        LOG.info("{}: {} layers with fake-quantized weights ({}), {} activation quantizers ({})", s.model(),
                FakeQuantization.quantizedLayers(fakeQuantized).size(), scheme.weights().configName(),
                FakeQuantization.quantizers(fakeQuantized).size(), scheme.activationRange().configName());

        ModelTraining.Trained trained = ModelTraining.train(ctx, ModelCheckpoint.SINGLE, s.data(),
                s.recipe(), fakeQuantized, s.recipe().recipe(s.epochs(), s.learningRate(), s.seed()),
                ModelTraining.teaching(ctx, s.teacher(), s.model()));
        ComputationGraph net = trained.net();

        Dataset<Row> calibration = QuantizationSetup.calibrationImages(ctx, s.quant());
        ActivationStatistics batchRanges = new ActivationStatistics(List.of(), 8);
        if (scheme.activationRange() == ActivationRange.DYNAMIC) {
            ctx.describe("mean batch ranges of the dynamic quantizers, to freeze them");
            batchRanges = DistributedCalibration.statistics(calibration, net, RangeFreezing.tensors(net), 8,
                    s.data().assembler(), s.quant().batchSize(), s.quant().threadsPerTask());
        }
        RangeFreezing.freezeLearned(net, batchRanges);
        LOG.info("qat: {}", QuantizationSetup.summary(QuantizationSetup.writeLayerErrors(ctx, s.quant(), s.data(),
                calibration, FakeQuantization.strip(net), net)));
        QuantizationSetup.writeRanges(ctx, net);
        ModelCheckpoint.writeSingle(ctx, net, model.record().family(), model.record().widths(),
                s.data().shape());
        ModelTraining.writeHistory(ctx, trained.history());
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) throws IOException {
        QuantizationSetup.reportErrors(report, stage, checkpoint);
        ModelTraining.reportHistory(report, stage, checkpoint);
    }
}
