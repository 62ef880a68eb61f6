package org.sparkslim.jobs.spark;

import java.io.Serializable;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.DoubleAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.train.EpochSteps;
import org.sparkslim.compression.train.TrainingRecipe;

/**
 * A training's epochs taken in the executors by DL4J's parameter averaging: one worker per task slot.
 * An epoch is a sequence of rounds; in each, every worker takes {@code averaging-frequency} steps on
 * its own copy of the network with batches of the recipe's size, then the copies and their updater
 * states are averaged into the driver's network. The executors assemble and augment the batches from
 * the shuffled rows, a round's worth per partition, so that every image is trained on once per epoch
 * (DL4J's own split of an epoch into rounds drops up to a round's images). The driver's network is
 * updated in place, so that validation, checkpoints and resume work as in local training.
 */
public final class DistributedSteps implements EpochSteps {
    private static final Logger LOG = LoggerFactory.getLogger(DistributedSteps.class);

    private final JavaSparkContext sc;
    private final SparkBatchSource train;
    private final TrainingRecipe recipe;
    private final int averagingFrequency;
    private final String stage;
    private final int workers;
    private SparkComputationGraph sparkNet;

    public DistributedSteps(SparkSession spark, SparkBatchSource train, TrainingRecipe recipe,
                            int averagingFrequency, String stage) {
        this.sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        this.train = train;
        this.recipe = recipe;
        this.averagingFrequency = averagingFrequency;
        this.stage = stage;
        this.workers = workers(spark);
    }

    /** The number of workers: one per task slot of the cluster. */
    public static int workers(SparkSession spark) {
        return spark.sparkContext().defaultParallelism();
    }

    /**
     * The examples each worker steps through in an epoch of {@code examples}: what the learning rate
     * schedule of a training in the executors counts its iterations by.
     */
    public static long examplesPerWorker(SparkSession spark, long examples) {
        int workers = workers(spark);
        return (examples + workers - 1) / workers;
    }

    @Override
    public EpochLoss run(ComputationGraph net, int epoch) {
        if (sparkNet == null || sparkNet.getNetwork() != net) {
            sparkNet = new SparkComputationGraph(sc, net, trainingMaster());
        }
        LossListener loss = new LossListener(sc.sc());
        sparkNet.setListeners(loss);
        long perRound = (long) workers * averagingFrequency * recipe.batchSize();
        JavaRDD<DataSet> batches = train.distributedEpoch(epoch, perRound);
        int rounds = batches.getNumPartitions();
        LOG.info("{}: epoch {}/{} in the executors: {} workers, {} rounds of {} steps each", stage, epoch,
                recipe.epochs(), workers, rounds, averagingFrequency);
        for (int round = 0; round < rounds; round++) {
            sc.setJobDescription(String.format("%s: epoch %d/%d, round %d/%d on %d workers (parameter averaging)",
                    stage, epoch, recipe.epochs(), round + 1, rounds, workers));
            sparkNet.fit(PartitionRange.of(batches, round, round + 1, DataSet.class));
        }
        // every batch is full but each round's last: fewer steps than that would mean skipped images
        long images = Math.min(train.size(), loss.steps.value() * recipe.batchSize());
        LOG.info("{}: epoch {} took {} steps in the executors, on {} of the {} images", stage, epoch,
                loss.steps.value(), images, train.size());
        return new EpochLoss(loss.meanLoss(), images);
    }

    private ParameterAveragingTrainingMaster trainingMaster() {
        int batch = recipe.batchSize();
        // a round is one split: DL4J balances its batches over the workers and averages once
        return new ParameterAveragingTrainingMaster.Builder(workers, batch)
                .batchSizePerWorker(batch)
                .averagingFrequency(averagingFrequency)
                .workerPrefetchNumBatches(2)
                .saveUpdater(true)
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                .storageLevel(StorageLevel.MEMORY_AND_DISK_SER())
                .rngSeed(recipe.seed())
                .build();
    }

    /** Sums each step's loss in accumulators that the driver reads after the epoch. */
    private static final class LossListener extends BaseTrainingListener implements Serializable {
        private final DoubleAccumulator sum;
        private final LongAccumulator steps;

        LossListener(SparkContext sc) {
            this.sum = sc.doubleAccumulator();
            this.steps = sc.longAccumulator();
        }

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            sum.add(model.score());
            steps.add(1);
        }

        double meanLoss() {
            return steps.value() == 0 ? Double.NaN : sum.value() / steps.value();
        }
    }
}
