package org.sparkslim.jobs.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.distill.TeacherLogits;
import org.sparkslim.compression.runtime.NativeThreads;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.Scorer;
import org.sparkslim.jobs.spark.ScoringEngine;
import org.sparkslim.jobs.spark.TeacherInference;

/**
 * Teacher inference as the soft-labels stage runs it (Spark, one native thread per task) against the
 * best plain loop in one JVM on all cores: one thread whose forward passes use every core, or one
 * thread per core, each with its share of the images. The ways take turns, twice; each keeps its
 * faster turn.
 */
public final class TeacherInferenceSpeed {
    private TeacherInferenceSpeed() {
    }

    public record Result(double sparkImagesPerSecond, double oneThreadImagesPerSecond,
                         double threadPerCoreImagesPerSecond) {
        public double bestLoop() {
            return Math.max(oneThreadImagesPerSecond, threadPerCoreImagesPerSecond);
        }
    }

    /** @param table the same images as {@code images}, as image rows */
    public static Result measure(ComputationGraph teacher, LabeledImages images, Dataset<Row> table,
                                 BatchAssembler assembler, ScoringEngine engine, int batchSize, int cores) throws Exception {
        ComputationGraph logits = new TeacherLogits(teacher).network();
        BroadcastModel broadcast = BroadcastModel.of(table.sparkSession(), logits);
        double spark = 0;
        double oneThread = 0;
        double perCore = 0;
        for (int turn = 0; turn < 2; turn++) {
            long start = System.nanoTime();
            long n = TeacherInference.logits(table, broadcast, List.of(), assembler, batchSize, 1, engine).count();
            spark = Math.max(spark, n / seconds(start));
            start = System.nanoTime();
            loop(logits, images, 0, images.size(), assembler, engine, batchSize, cores);
            oneThread = Math.max(oneThread, images.size() / seconds(start));
            start = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(cores);
            try {
                List<Future<?>> parts = new ArrayList<>();
                for (int c = 0; c < cores; c++) {
                    int from = (int) ((long) images.size() * c / cores);
                    int to = (int) ((long) images.size() * (c + 1) / cores);
                    ComputationGraph own = logits.clone();
                    parts.add(pool.submit(() -> {
                        loop(own, images, from, to, assembler, engine, batchSize, 1);
                        return null;
                    }));
                }
                for (Future<?> part : parts) {
                    part.get();
                }
            } finally {
                pool.shutdown();
            }
            perCore = Math.max(perCore, images.size() / seconds(start));
        }
        return new Result(spark, oneThread, perCore);
    }

    /** Logits of images {@code [from, to)}, a batch at a time, with {@code threads} native threads. */
    private static void loop(ComputationGraph net, LabeledImages images, int from, int to, BatchAssembler assembler,
                             ScoringEngine engine, int batchSize, int threads) {
        NativeThreads.setForCurrentThread(threads);
        try (Scorer scorer = Scorer.open(net, engine, assembler.shape(), threads)) {
            for (int b = from; b < to; b += batchSize) {
                List<byte[]> batch = new ArrayList<>();
                for (int i = b; i < Math.min(to, b + batchSize); i++) {
                    batch.add(images.image(i));
                }
                scorer.outputs(assembler.features(batch));
            }
        }
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
