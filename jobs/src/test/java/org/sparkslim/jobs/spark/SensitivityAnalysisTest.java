package org.sparkslim.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.Restoration;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.bench.SensitivitySpeedup;

/** Variants scored as pruned, or after a short training of their own that leaves the broadcast model as it was. */
class SensitivityAnalysisTest {
    @RegisterExtension
    static final LocalSpark SPARK = new LocalSpark("local[2]", "sensitivity-analysis-test");

    private final SparkSession spark = SPARK.session();

    /** Images whose class is the band of rows that is bright: a network learns them in a few epochs. */
    static LabeledImages bands(int n, long seed) {
        Random r = new Random(seed);
        int pixels = ScoringEngineTest.SHAPE.pixels();
        byte[] data = new byte[n * pixels];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(10);
            for (int p = 0; p < pixels; p++) {
                int row = p / 28;
                boolean band = row >= 2 + 2 * labels[i] && row < 4 + 2 * labels[i];
                data[i * pixels + p] = (byte) (band ? 200 + r.nextInt(56) : r.nextInt(60));
            }
        }
        return new LabeledImages(ScoringEngineTest.SHAPE, data, labels);
    }

    @Test
    void aRetrainedVariantIsScoredAfterItsOwnTrainingOnACopy() {
        ComputationGraph net = ScoringEngineTest.network();
        List<SensitivityAnalysis.Task> tasks = new ArrayList<>();
        tasks.add(new SensitivityAnalysis.Task("baseline", 0, PruningPlan.empty("none")));
        tasks.add(SensitivitySpeedup.tasks(net, List.of(0.5)).get(0));
        BroadcastModel model = BroadcastModel.of(spark, net);
        LabeledImages images = bands(96, 5);
        SensitivityAnalysis.Scoring asPruned = new SensitivityAnalysis.Scoring(images, Restoration.none(),
                ScoringEngineTest.ASSEMBLER, 32, 1, ScoringEngine.DL4J);
        SensitivityAnalysis.Scoring retrained = new SensitivityAnalysis.Scoring(images, Restoration.none(),
                new SensitivityAnalysis.Retraining(images,
                        new TrainingRecipe(6, 16, 0.1, 0.9, 0, 0, Augmentation.NONE, 7)),
                ScoringEngineTest.ASSEMBLER, 32, 1, ScoringEngine.DL4J);

        List<SensitivityAnalysis.Result> before = SensitivityAnalysis.run(spark, model, tasks, asPruned);
        List<SensitivityAnalysis.Result> after = SensitivityAnalysis.run(spark, model, tasks, retrained);
        List<SensitivityAnalysis.Result> again = SensitivityAnalysis.run(spark, model, tasks, asPruned);
        for (int i = 0; i < tasks.size(); i++) {
            assertTrue(after.get(i).top1() > before.get(i).top1() + 0.3, tasks.get(i).group() + ": top-1 "
                    + before.get(i).top1() + " as pruned, " + after.get(i).top1() + " after its training");
            assertEquals(before.get(i).macs(), after.get(i).macs(), "training changes no width");
            assertEquals(before.get(i), again.get(i), "the broadcast model was not trained");
        }
    }
}
