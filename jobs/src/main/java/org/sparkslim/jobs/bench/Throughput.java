package org.sparkslim.jobs.bench;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.runtime.FusedBatchNorm;
import org.sparkslim.compression.runtime.OnePassReLU6;
import org.sparkslim.compression.train.InMemoryBatchSource;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;

/** Throughput of one zoo model: training, single-model inference, and a plain scoring loop vs Spark. */
public final class Throughput {
    private static final int WARMUP_BATCHES = 5;
    private static final int SCORING_BATCH = 256;

    private Throughput() {
    }

    /**
     * @param trainImagesPerSecond       training as {@code Trainer} runs it (batch norms through
     *                                   {@link FusedBatchNorm}, ReLU6 through {@link OnePassReLU6})
     * @param trainFusedBatchNormImagesPerSecond the same batches with only the batch norms replaced
     * @param trainDl4jImagesPerSecond   the same batches with DL4J's own layers (batch norm through its oneDNN helper)
     */
    public record Result(double trainImagesPerSecond, double trainFusedBatchNormImagesPerSecond,
                         double trainDl4jImagesPerSecond,
                         double inferenceImagesPerSecond, double loopImagesPerSecond, double sparkImagesPerSecond) {
    }

    /**
     * @param spark scores {@code test} with the given network on Spark and returns images/s
     */
    public static Result measure(String family, LabeledImages train, LabeledImages test, BatchAssembler assembler,
                                 int trainBatches, ToDoubleFunction<ComputationGraph> spark) {
        ModelFamily f = ModelZoo.family(family);
        ComputationGraph built = f.build(f.spec(f.baseWidths(), assembler.shape(), assembler.numClasses(), 1));
        TrainingRecipe recipe = TrainingRecipe.fromScratch(1);
        InMemoryBatchSource source = new InMemoryBatchSource(train, assembler, recipe.batchSize(),
                Augmentation.CROP_AND_FLIP, true, 1);
        Trainer trainer = new Trainer(recipe, assembler.numClasses());

        List<DataSet> batches = new ArrayList<>();
        Iterator<DataSet> it = source.epoch(1);
        for (int i = 0; i < WARMUP_BATCHES + trainBatches && it.hasNext(); i++) {
            batches.add(it.next());
        }
        // the three ways take turns, twice, on copies of the same network; each keeps its faster turn
        ComputationGraph dl4j = trainer.prepare(built, train.size());
        ComputationGraph batchNormOnly = trainer.prepare(built, train.size());
        FusedBatchNorm.installOn(batchNormOnly);
        ComputationGraph net = trainer.prepare(built, train.size());
        FusedBatchNorm.installOn(net);
        double dl4jRate = 0;
        double batchNormRate = 0;
        double fusedRate = 0;
        try (OnePassReLU6.Installed relu6 = OnePassReLU6.installOn(net)) {
            for (int turn = 0; turn < 2; turn++) {
                dl4jRate = Math.max(dl4jRate, trainingRate(dl4j, batches));
                batchNormRate = Math.max(batchNormRate, trainingRate(batchNormOnly, batches));
                fusedRate = Math.max(fusedRate, trainingRate(net, batches));
            }
        }

        List<INDArray> inputs = new ArrayList<>();
        for (int from = 0; from < test.size(); from += SCORING_BATCH) {
            LabeledImages slice = test.slice(from, Math.min(test.size(), from + SCORING_BATCH));
            List<byte[]> imgs = new ArrayList<>();
            for (int i = 0; i < slice.size(); i++) {
                imgs.add(slice.image(i));
            }
            inputs.add(assembler.features(imgs));
        }
        net.outputSingle(false, inputs.get(0));
        long start = System.nanoTime();
        for (INDArray x : inputs) {
            net.outputSingle(false, x);
        }
        double inference = test.size() / ((System.nanoTime() - start) / 1e9);

        // The plain loop does what a Spark task does (decode bytes, normalize, forward), on one JVM thread.
        start = System.nanoTime();
        for (int from = 0; from < test.size(); from += SCORING_BATCH) {
            List<byte[]> imgs = new ArrayList<>();
            for (int i = from; i < Math.min(test.size(), from + SCORING_BATCH); i++) {
                imgs.add(test.image(i));
            }
            net.outputSingle(false, assembler.features(imgs)).toFloatMatrix();
        }
        double loop = test.size() / ((System.nanoTime() - start) / 1e9);
        double sparkRate = spark.applyAsDouble(net);
        return new Result(fusedRate, batchNormRate, dl4jRate, inference, loop, sparkRate);
    }

    /** Images/s of training steps over {@code batches} after the first few, which warm up. */
    private static double trainingRate(ComputationGraph net, List<DataSet> batches) {
        for (int i = 0; i < WARMUP_BATCHES; i++) {
            net.fit(batches.get(i));
        }
        long start = System.nanoTime();
        long images = 0;
        for (int i = WARMUP_BATCHES; i < batches.size(); i++) {
            net.fit(batches.get(i));
            images += batches.get(i).numExamples();
        }
        return images / ((System.nanoTime() - start) / 1e9);
    }
}
