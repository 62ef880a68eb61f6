package org.sparkslim.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.train.EpochCheckpoints;
import org.sparkslim.compression.train.EpochSummary;
import org.sparkslim.compression.train.Evaluator;
import org.sparkslim.compression.train.InMemoryBatchSource;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.tables.ImageTable;

/** Two workers on local[2] train the driver's network step by step, on every image, the same way twice. */
class GradientSharingStepsTest {
    private static final LabeledImages IMAGES = SensitivityAnalysisTest.bands(640, 9);
    private static final TrainingRecipe RECIPE = new TrainingRecipe(2, 32, 0.05, 0.9, 5e-4,
            new Augmentation(2, 0.5), 7);
    @RegisterExtension
    static final LocalSpark SPARK = new LocalSpark("local[2]", "gradient-sharing-test");

    private final SparkSession spark = SPARK.session();

    private Dataset<Row> rows() {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < IMAGES.size(); i++) {
            rows.add(RowFactory.create((long) i, IMAGES.labels()[i], IMAGES.image(i)));
        }
        return spark.createDataFrame(rows, ImageTable.SCHEMA).repartition(3);
    }

    private static ComputationGraph untrained() {
        ModelFamily vgg = ModelZoo.family("vgg");
        return vgg.build(vgg.spec(vgg.baseWidths().scaled(0.25), ScoringEngineTest.SHAPE, 10, 5));
    }

    private static double top1(ComputationGraph net) {
        return Evaluator.evaluate(net, InMemoryBatchSource.forEvaluation(IMAGES, ScoringEngineTest.ASSEMBLER, 128), 10)
                .top1();
    }

    private record Trained(ComputationGraph net, List<EpochSummary> history) {
    }

    private Trained train(TrainingRecipe recipe) throws IOException {
        SparkBatchSource source = new SparkBatchSource(rows(), ScoringEngineTest.ASSEMBLER, recipe.batchSize(),
                recipe.augmentation(), true, recipe.seed(), "gradient sharing test");
        Trainer trainer = new Trainer(recipe, 10);
        ComputationGraph net = trainer.prepare(untrained(), DistributedSteps.examplesPerWorker(spark, source.size()));
        List<EpochSummary> history = trainer.fit(net, new GradientSharingSteps(spark, source, recipe, "test"), null,
                EpochCheckpoints.NONE);
        return new Trained(net, history);
    }

    /** The mean absolute scale of the network's batch normalizations. */
    private static double meanScale(ComputationGraph net) {
        double sum = 0;
        long n = 0;
        for (Layer layer : net.getLayers()) {
            if (layer instanceof BatchNormalization) {
                sum += layer.getParam("gamma").amean().getDouble(0) * layer.getParam("gamma").length();
                n += layer.getParam("gamma").length();
            }
        }
        return sum / n;
    }

    @Test
    void theWorkersStepTheDriversNetworkOnEveryImageTheSameWayTwice() throws IOException {
        double before = top1(untrained());
        Trained first = train(RECIPE);
        Trained second = train(RECIPE);

        // 640 images in batches of 32 on 2 workers: 10 steps of 64 images an epoch
        assertEquals(20, first.net().getConfiguration().getIterationCount());
        for (EpochSummary epoch : first.history()) {
            assertEquals(IMAGES.size(), epoch.imagesPerSecond() * epoch.seconds(), 1e-6, "every image, once an epoch");
        }
        assertTrue(first.history().get(1).learningRate() < 1e-3, "the schedule counts shared steps and ends at 0");
        double after = top1(first.net());
        assertTrue(after > before + 0.25, "20 steps learn: top-1 on the training images " + before + " before, "
                + after + " after");
        assertArrayEquals(first.net().params().toFloatVector(), second.net().params().toFloatVector(),
                "the same seed gives the same model, bit for bit");
        assertArrayEquals(first.net().getUpdater().getStateViewArray().toFloatVector(),
                second.net().getUpdater().getStateViewArray().toFloatVector(), "and the same momentum");
    }

    @Test
    void theDriverShrinksBatchNormScalesAfterEveryStep() throws IOException {
        TrainingRecipe penalized = new TrainingRecipe(RECIPE.epochs(), RECIPE.batchSize(), RECIPE.learningRate(),
                RECIPE.momentum(), RECIPE.weightDecay(), 0.5, RECIPE.augmentation(), RECIPE.seed());
        double plain = meanScale(train(RECIPE).net());
        double shrunk = meanScale(train(penalized).net());
        // 20 steps at a mean learning rate of 0.025 take 0.5 x 0.025 x 20 = 0.25 off every scale
        assertTrue(shrunk < plain - 0.15, "mean batch norm scale " + plain + " without the penalty, " + shrunk + " with");
    }
}
