package org.sparkslim.jobs.spark;

import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.util.ComputationGraphUtil;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.train.BatchNormScaleShrinkage;
import org.sparkslim.compression.train.EpochSteps;
import org.sparkslim.compression.train.GradientSum;
import org.sparkslim.compression.train.StepProgress;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;

/**
 * A training's epochs taken in the executors by gradient sharing: synchronous data-parallel SGD, one
 * worker per task slot. Each step is one Spark job of one task per worker: the task takes the next
 * batch of the epoch's shuffled order (assembled and augmented in the executor), sets its thread's
 * copy of the network to the step's parameters (broadcast) and returns the gradient ({@link
 * GradientSum}). The driver adds the workers' gradients in their order and applies the sum with the
 * network's own updater, so momentum and the learning rate schedule live in one place, checkpoints
 * and resume work as in local training, and the same config gives the same model. The L1 penalty on
 * batch norm scales ({@code train.bn-scale-l1}) is applied after each step, as locally. A step of W workers
 * is a step of W batches' images, so an epoch is W times fewer steps than local training's.
 */
public final class GradientSharingSteps implements EpochSteps {
    private static final Logger LOG = LoggerFactory.getLogger(GradientSharingSteps.class);
    /** A worker per task slot, each with one native thread: the slots are the cores. */
    private static final int THREADS_PER_TASK = 1;

    private final SparkSession spark;
    private final JavaSparkContext sc;
    private final SparkBatchSource train;
    private final TrainingRecipe recipe;
    private final String stage;
    private final int workers;
    private final StepProgress progress;
    private BroadcastModel layers;

    public GradientSharingSteps(SparkSession spark, SparkBatchSource train, TrainingRecipe recipe, String stage) {
        this.spark = spark;
        this.sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        this.train = train;
        this.recipe = recipe;
        this.stage = stage;
        this.workers = DistributedSteps.workers(spark);
        this.progress = new StepProgress(LOG, recipe.epochs());
    }

    @Override
    public EpochLoss run(ComputationGraph net, int epoch) {
        if (layers == null) {
            // the layers once per training; their parameters go out with every step
            layers = BroadcastModel.of(spark, net);
        }
        JavaRDD<DataSet> batches = train.distributedEpoch(epoch, recipe.batchSize());
        int steps = (batches.getNumPartitions() + workers - 1) / workers;
        LOG.info("{}: epoch {}/{} in the executors: {} steps of {} workers x {} images (gradient sharing)", stage,
                epoch, recipe.epochs(), steps, workers, recipe.batchSize());
        progress.startEpoch(epoch, steps);
        for (int step = 0; step < steps; step++) {
            sc.setJobDescription(String.format("%s: epoch %d/%d, step %d/%d on %d workers (gradient sharing)", stage,
                    epoch, recipe.epochs(), step + 1, steps, workers));
            GradientSum sum = gradient(net, PartitionRange.of(batches, step * workers,
                    Math.min(batches.getNumPartitions(), (step + 1) * workers), DataSet.class));
            double stepRate = recipe.bnScaleL1() > 0 ? Trainer.learningRate(net) : 0;
            sum.applyTo(net);
            if (recipe.bnScaleL1() > 0) {
                BatchNormScaleShrinkage.apply(net, stepRate * recipe.bnScaleL1());
            }
            progress.stepTaken(net, sum.images(), sum.meanLoss());
        }
        return progress.epochLoss();
    }

    /** The workers' gradients at {@code net}'s parameters, each on its batch, added in the workers' order. */
    private GradientSum gradient(ComputationGraph net, JavaRDD<DataSet> step) {
        Broadcast<float[]> params = sc.broadcast(net.params().toFloatVector());
        BroadcastModel model = layers;
        try {
            List<GradientSum> parts = ExecutorWork.rows(step, THREADS_PER_TASK, batches ->
                    sumOf(model.forTraining(), params.value(), batches)).collect();
            GradientSum sum = parts.get(0);
            // in a fixed order: float addition is not associative, and the same config gives the same model
            for (GradientSum part : parts.subList(1, parts.size())) {
                sum.merge(part);
            }
            return sum;
        } finally {
            params.destroy();
        }
    }

    private static Iterator<GradientSum> sumOf(ComputationGraph net, float[] params, Iterator<DataSet> batches) {
        net.params().assign(Nd4j.createFromArray(params).reshape(net.params().shape()));
        GradientSum sum = null;
        while (batches.hasNext()) {
            GradientSum part = GradientSum.of(net, ComputationGraphUtil.toMultiDataSet(batches.next()));
            sum = sum == null ? part : sum.merge(part);
        }
        return sum == null ? List.<GradientSum>of().iterator() : List.of(sum).iterator();
    }
}
