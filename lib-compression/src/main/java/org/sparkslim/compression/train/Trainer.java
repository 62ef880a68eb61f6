package org.sparkslim.compression.train;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.util.ComputationGraphUtil;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.runtime.FusedBatchNorm;
import org.sparkslim.compression.runtime.OnePassReLU6;

/**
 * Trains a network with a {@link TrainingRecipe} on a {@link BatchSource}, logging progress ({@link
 * StepProgress}) and, when a validation source is given, scoring it
 * after every epoch. Batch norms train through {@link FusedBatchNorm}, ReLU6 layers through {@link OnePassReLU6}.
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final TrainingRecipe recipe;
    private final int numClasses;

    public Trainer(TrainingRecipe recipe, int numClasses) {
        this.recipe = recipe;
        this.numClasses = numClasses;
    }

    /**
     * Returns a copy of {@code net} (same weights) whose updater and regularization follow the recipe
     * and whose iteration counter starts at 0, so the cosine schedule starts at its top.
     */
    public ComputationGraph prepare(ComputationGraph net, long trainingExamples) {
        int iterationsPerEpoch = (int) Math.max(1, (trainingExamples + recipe.batchSize() - 1) / recipe.batchSize());
        int total = iterationsPerEpoch * recipe.epochs();
        FineTuneConfiguration tuning = new FineTuneConfiguration.Builder()
                .updater(new Nesterovs(new CosineDecaySchedule(recipe.learningRate(), total), recipe.momentum()))
                .l2(recipe.weightDecay())
                .seed(recipe.seed())
                .build();
        ComputationGraph prepared = new TransferLearning.GraphBuilder(net).fineTuneConfiguration(tuning).build();
        prepared.getConfiguration().setIterationCount(0);
        prepared.getConfiguration().setEpochCount(0);
        return prepared;
    }

    /**
     * Trains {@code net} in place for the recipe's epochs.
     *
     * @param validation  scored after each epoch, or null
     * @param checkpoints where the state is saved after each epoch and resumed from
     */
    public List<EpochSummary> fit(ComputationGraph net, BatchSource train, BatchSource validation,
                                  EpochCheckpoints checkpoints) throws IOException {
        return fit(net, train, ComputationGraphUtil::toMultiDataSet, validation, checkpoints);
    }

    /**
     * Trains {@code net} in place for the recipe's epochs, on the labels {@code targets} makes of each
     * batch (for a network with several outputs); it runs ahead of training, in the prefetch thread.
     * Validation scores the network's first output. When {@code checkpoints} holds the state of an
     * earlier, interrupted training of the same network, training continues after its last epoch.
     */
    public List<EpochSummary> fit(ComputationGraph net, BatchSource train, Function<DataSet, MultiDataSet> targets,
                                  BatchSource validation, EpochCheckpoints checkpoints) throws IOException {
        FusedBatchNorm.installOn(net);
        try (OnePassReLU6.Installed relu6 = OnePassReLU6.installOn(net)) {
            return fit(net, localSteps(train, targets), validation, checkpoints);
        }
    }

    /**
     * Trains {@code net} in place for the recipe's epochs, each taken by {@code steps} (on a cluster,
     * say), with the same resume, validation, checks, history and checkpoints as a local training.
     */
    public List<EpochSummary> fit(ComputationGraph net, EpochSteps steps, BatchSource validation,
                                  EpochCheckpoints checkpoints) throws IOException {
        List<EpochSummary> history = new ArrayList<>();
        Optional<TrainingState> resumed = checkpoints.latest();
        if (resumed.isPresent() && resumed.get().epoch() <= recipe.epochs()) {
            resumed.get().restoreInto(net);
            history.addAll(resumed.get().history());
            LOG.info("resuming after epoch {}/{}, from the state saved when it ended", resumed.get().epoch(),
                    recipe.epochs());
        }
        for (int epoch = history.size() + 1; epoch <= recipe.epochs(); epoch++) {
            // seeded per epoch, so that an epoch draws the same numbers whether or not training resumed before it
            Nd4j.getRandom().setSeed(recipe.seed() * 1_000_003L + epoch);
            long epochStart = System.nanoTime();
            EpochSteps.EpochLoss loss = steps.run(net, epoch);
            if (!Double.isFinite(loss.meanLoss())) {
                throw new TrainingDivergedException("the loss is " + loss.meanLoss(), epoch, 0, learningRate(net));
            }
            // a weight can overflow while the loss still reads finite (a saturated softmax)
            if (!Double.isFinite(net.params().sumNumber().doubleValue())) {
                throw new TrainingDivergedException("a weight is not finite", epoch, 0, learningRate(net));
            }
            double seconds = (System.nanoTime() - epochStart) / 1e9;
            double valTop1 = Double.NaN;
            double valLoss = Double.NaN;
            if (validation != null) {
                ClassificationMetrics m = Evaluator.evaluate(net, validation, numClasses);
                valTop1 = m.top1();
                valLoss = m.loss();
            }
            net.getConfiguration().setEpochCount(epoch);
            EpochSummary summary = new EpochSummary(epoch, loss.meanLoss(), learningRate(net),
                    loss.images() / seconds, seconds, valTop1, valLoss);
            LOG.info(String.format("epoch %d/%d done in %s: train loss %.4f, %.0f images/s%s%s", epoch, recipe.epochs(),
                    formatDuration(seconds), summary.trainLoss(), summary.imagesPerSecond(),
                    validation == null ? "" : String.format(", validation top-1 %.2f%% loss %.4f", 100 * valTop1, valLoss),
                    recipe.bnScaleL1() > 0
                            ? ", batch norm scales at 0: " + BatchNormScaleShrinkage.zeroScales(net) : ""));
            history.add(summary);
            checkpoints.save(TrainingState.of(net, history));
        }
        return history;
    }

    /** The steps of one epoch in this JVM: batches prefetched in a thread, a step per batch, progress logged. */
    private EpochSteps localSteps(BatchSource train, Function<DataSet, MultiDataSet> targets) {
        long perEpoch = (train.size() + recipe.batchSize() - 1) / recipe.batchSize();
        StepProgress progress = new StepProgress(LOG, recipe.epochs());
        return (net, epoch) -> {
            progress.startEpoch(epoch, perEpoch);
            Iterator<DataSet> source = train.epoch(epoch);
            Iterator<MultiDataSet> labelled = new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return source.hasNext();
                }

                @Override
                public MultiDataSet next() {
                    return targets.apply(source.next());
                }
            };
            try (Prefetcher<MultiDataSet> batches = new Prefetcher<>(labelled, 4, "sparkslim-batches")) {
                while (batches.hasNext()) {
                    MultiDataSet batch = batches.next();
                    double stepRate = recipe.bnScaleL1() > 0 ? learningRate(net) : 0;
                    net.fit(batch);
                    if (recipe.bnScaleL1() > 0) {
                        BatchNormScaleShrinkage.apply(net, stepRate * recipe.bnScaleL1());
                    }
                    double loss = net.score();
                    progress.stepTaken(net, batch.getFeatures(0).size(0), loss);
                    if (!Double.isFinite(loss)) {
                        throw new TrainingDivergedException("the loss is " + loss, epoch, progress.stepsInEpoch(),
                                learningRate(net));
                    }
                }
            }
            return progress.epochLoss();
        };
    }

    /** The learning rate the schedule gives at the network's current iteration. */
    public static double learningRate(ComputationGraph net) {
        return net.getLayer(0).conf().getLayer().getUpdaterByParam(net.getLayer(0).paramTable().keySet().stream()
                        .findFirst().orElse("W"))
                .getLearningRate(net.getConfiguration().getIterationCount(), net.getConfiguration().getEpochCount());
    }

    public static String formatDuration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format("%dh%02dm%02ds", s / 3600, (s % 3600) / 60, s % 60)
                : String.format("%dm%02ds", s / 60, s % 60);
    }
}
