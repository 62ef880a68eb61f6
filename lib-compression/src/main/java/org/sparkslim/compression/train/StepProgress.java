package org.sparkslim.compression.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;

/**
 * The progress of a training's optimisation steps, wherever they are taken: the loss and images of
 * the epoch under way, and a log line (epoch, step, loss, learning rate, images/s, ETA of the whole
 * training) every ten seconds and after an epoch's last step. One per training, so that the ETA
 * comes from the steps taken so far; a resumed training's first epoch is a later one.
 */
public final class StepProgress {
    private static final long LOG_INTERVAL_NANOS = 10_000_000_000L;

    private final Logger log;
    private final int epochs;
    private final long started = System.nanoTime();
    private long stepsTaken;

    private int epoch;
    private long steps;
    private long step;
    private long epochStart;
    private long lastLog;
    private double lossSum;
    private long images;

    /** Logs to {@code log}, for a training of {@code epochs} epochs. */
    public StepProgress(Logger log, int epochs) {
        this.log = log;
        this.epochs = epochs;
    }

    /** Starts epoch {@code epoch}, of {@code steps} steps. */
    public void startEpoch(int epoch, long steps) {
        this.epoch = epoch;
        this.steps = steps;
        this.step = 0;
        this.epochStart = System.nanoTime();
        this.lastLog = epochStart;
        this.lossSum = 0;
        this.images = 0;
    }

    /** Counts a step on {@code net} of {@code stepImages} images, whose mean loss was {@code meanLoss}. */
    public void stepTaken(ComputationGraph net, long stepImages, double meanLoss) {
        step++;
        stepsTaken++;
        images += stepImages;
        lossSum += meanLoss * stepImages;
        long now = System.nanoTime();
        if (now - lastLog > LOG_INTERVAL_NANOS || step == steps) {
            lastLog = now;
            long left = steps - step + (long) steps * (epochs - epoch);
            double eta = (now - started) / 1e9 / stepsTaken * left;
            log.info(String.format("epoch %d/%d  step %d/%d  loss %.4f  lr %.5f  %.0f images/s  ETA %s", epoch, epochs,
                    step, steps, lossSum / images, Trainer.learningRate(net), images / ((now - epochStart) / 1e9),
                    Trainer.formatDuration(eta)));
        }
    }

    /** Steps counted in the epoch under way. */
    public int stepsInEpoch() {
        return Math.toIntExact(step);
    }

    /** The epoch's images-weighted mean loss and its images, so far. */
    public EpochSteps.EpochLoss epochLoss() {
        return new EpochSteps.EpochLoss(lossSum / Math.max(1, images), images);
    }
}
