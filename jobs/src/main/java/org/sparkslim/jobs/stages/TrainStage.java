package org.sparkslim.jobs.stages;

import com.typesafe.config.Config;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.WidthVector;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.spark.ImageTable;

/**
 * Trains a zoo model from scratch (a baseline, or a teacher for later stages) with the benchmark
 * recipe, streaming the training split from Parquet. Writes {@code model.zip}, {@code models.parquet}
 * and {@code history.parquet} (one row per epoch).
 */
public final class TrainStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger(TrainStage.class);

    @Override
    public String name() {
        return "train";
    }

    @Override
    public String description() {
        return "train a zoo model from scratch on the train split (SGD, Nesterov, cosine)";
    }

    @Override
    public List<String> configPaths() {
        return List.of("data.image", "data.num-classes", "data.normalization", "model", "train", "run.seed");
    }

    @Override
    public List<String> inputs(Config config) {
        return List.of("prepare-data");
    }

    @Override
    public List<String> outputs() {
        return List.of("model.zip", "models.parquet", "history.parquet");
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        OneDnn.enable();
        Config c = ctx.config();
        ModelFamily family = ModelBuilding.family(c);
        WidthVector widths = ModelBuilding.widths(c, family);
        ImageShape shape = ImageTable.shape(c);
        ComputationGraph net = family.build(family.spec(widths, shape, c.getInt("data.num-classes"), ctx.seed()));
        ModelCost cost = ModelCost.of(net, shape);
        LOG.info("{} {}: {} MACs, {} params", family.name(), widths, cost.macs(), cost.params());
        double bnScaleL1 = c.getDouble("train.bn-scale-l1");
        if (bnScaleL1 < 0) {
            throw new ConfigException("train.bn-scale-l1 must be 0 (off) or positive, got " + bnScaleL1);
        }
        ModelTraining.trainAndWrite(ctx, net, ModelTraining.recipe(c, ctx.seed(), c.getInt("train.epochs"),
                c.getDouble("train.learning-rate")).withBnScaleL1(bnScaleL1), null, null, family.name(),
                widths.toString());
    }
}
