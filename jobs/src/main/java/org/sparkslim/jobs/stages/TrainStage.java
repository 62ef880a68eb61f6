package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.DistributedTraining;
import org.sparkslim.jobs.settings.ModelSettings;
import org.sparkslim.jobs.settings.RecipeSettings;
import org.sparkslim.jobs.tables.HistoryTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.training.ModelTraining;

/**
 * Trains a zoo model from scratch (a baseline, or a teacher for later stages) with the benchmark
 * recipe, streaming the training split from Parquet. Writes {@code model.zip}, {@code models.parquet}
 * and {@code history.parquet} (one row per epoch).
 */
public final class TrainStage implements Stage<TrainStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(TrainStage.class);

    /** The model to build, the data, and the recipe with this stage's epochs, learning rate and penalty. */
    public record Settings(ModelSettings model, DataSettings data, RecipeSettings recipe, int epochs,
                           double learningRate, double bnScaleL1, long seed) {
        TrainingRecipe trainingRecipe() {
            return recipe.recipe(epochs, learningRate, seed).withBnScaleL1(bnScaleL1);
        }
    }

    @Override
    public String name() {
        return "train";
    }

    @Override
    public String description() {
        return "train a zoo model from scratch on the train split (SGD, Nesterov, cosine)";
    }

    @Override
    public Settings settings(SettingsReader r) {
        RecipeSettings recipe = RecipeSettings.read(r);
        double bnScaleL1 = r.number("train.bn-scale-l1", Range.NON_NEGATIVE);
        if (bnScaleL1 > 0 && recipe.distributed().mode() == DistributedTraining.Mode.PARAMETER_AVERAGING) {
            r.fault("train.bn-scale-l1", "shrinks the scales after every step, which the workers of "
                    + recipe.distributed().describe() + " take on their own copies: it must be 0 (gradient sharing "
                    + "or local training can)");
        }
        return new Settings(ModelSettings.read(r), DataSettings.read(r), recipe,
                r.integer("train.epochs", Range.atLeast(1)), r.number("train.learning-rate", Range.POSITIVE),
                bnScaleL1, r.whole("run.seed"));
    }

    @Override
    public List<String> inputs(Settings settings) {
        List<String> inputs = new ArrayList<>(List.of("prepare-data"));
        inputs.addAll(settings.model().inputs());
        return inputs;
    }

    @Override
    public List<String> outputs(Settings settings) {
        return ModelCheckpoint.singleModelOutputs(HistoryTable.TABLE.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        OneDnn.enable();
        Settings s = ctx.settings();
        ModelSettings.Built model = s.model().build(ctx, s.data(), s.seed());
        ComputationGraph net = model.net();
        ModelCost cost = ModelCost.of(net, s.data().shape());
        LOG.info("{} {}: {} MACs, {} params", model.family(), model.widths(), cost.macs(), cost.params());
        ModelTraining.trainAndWrite(ctx, s.data(), s.recipe(), net, s.trainingRecipe(),
                ModelTraining.Teaching.NONE, model.family(), model.widths().toString());
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) throws IOException {
        ModelTraining.reportHistory(report, stage, checkpoint);
    }
}
