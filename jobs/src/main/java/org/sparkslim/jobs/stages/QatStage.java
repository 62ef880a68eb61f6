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
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.QuantizationConfig;
import org.sparkslim.compression.quant.RangeFreezing;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.DistributedCalibration;
import org.sparkslim.jobs.spark.ImageTable;
import org.sparkslim.jobs.spark.ModelCheckpoint;

/**
 * Quantization-aware training: folds the float model's batch norms, puts fake quantizers on its
 * weights and int8 tensors, fine-tunes it for {@code qat.epochs} (the {@code train} recipe at
 * {@code qat.learning-rate}), then freezes the activation ranges. The checkpoint is the
 * fake-quantized network, which the export stage writes as an int8 model.
 */
public final class QatStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(QatStage.class);

    @Override
    public String name() {
        return "qat";
    }

    @Override
    public String description() {
        return "quantization-aware fine-tuning of the model of qat.model";
    }

    @Override
    public List<String> configPaths() {
        return List.of("data.image", "data.num-classes", "data.normalization", "quant", "qat", "train", "run.seed");
    }

    @Override
    public List<String> inputs(Config config) {
        List<String> inputs = new ArrayList<>();
        inputs.add("prepare-data");
        inputs.add(config.getString("qat.model"));
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of("model.zip", "models.parquet", "history.parquet", QuantizationSetup.RANGES,
                QuantizationSetup.LAYER_ERRORS);
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        Config c = ctx.config();
        ActivationRange activations;
        try {
            activations = ActivationRange.parse(c.getString("qat.activations"));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("qat.activations: " + e.getMessage(), e);
        }
        QuantizationConfig scheme = QuantizationSetup.config(c, activations, c.getDouble("qat.moving-average-rate"),
                c.getInt("qat.window"));
        ModelCheckpoint.Loaded model = QuantizationSetup.floatModel(ctx, "qat.model");
        ComputationGraph fakeQuantized = FakeQuantization.insert(model.net(), scheme);
        LOG.info("{}: {} layers with fake-quantized weights ({}), {} activation quantizers ({})", c.getString("qat.model"),
                FakeQuantization.quantizedLayers(fakeQuantized).size(), scheme.weights().configName(),
                FakeQuantization.quantizers(fakeQuantized).size(), activations.configName());

        ModelTraining.Trained trained = ModelTraining.train(ctx, fakeQuantized, ModelTraining.recipe(c, ctx.seed(),
                c.getInt("qat.epochs"), c.getDouble("qat.learning-rate")));
        ComputationGraph net = trained.net();

        Dataset<Row> calibration = QuantizationSetup.calibrationImages(ctx);
        ActivationStatistics batchRanges = new ActivationStatistics(List.of(), 8);
        if (activations == ActivationRange.DYNAMIC) {
            ctx.describe("mean batch ranges of the dynamic quantizers, to freeze them");
            batchRanges = DistributedCalibration.statistics(calibration, net, RangeFreezing.tensors(net), 8,
                    ImageTable.assembler(c), c.getInt("quant.batch-size"), c.getInt("quant.threads-per-task"));
        }
        RangeFreezing.freezeLearned(net, batchRanges);
        LOG.info("qat: {}", QuantizationSetup.summary(QuantizationSetup.writeLayerErrors(ctx, calibration,
                FakeQuantization.strip(net), net)));
        QuantizationSetup.writeRanges(ctx, net);
        ModelCheckpoint.writeTable(ctx, List.of(ModelCheckpoint.writeModel(ctx, "model", net, model.record().family(),
                model.record().widths(), ImageTable.shape(c))));
        ModelTraining.writeHistory(ctx, trained.history());
    }
}
