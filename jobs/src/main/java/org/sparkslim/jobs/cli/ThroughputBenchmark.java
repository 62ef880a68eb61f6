package org.sparkslim.jobs.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.jobs.bench.Throughput;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.DistributedScoring;
import org.sparkslim.jobs.spark.ScoringEngine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "throughput", mixinStandardHelpOptions = true,
        description = {"Measure, for each zoo model, training and inference images/s on Fashion-MNIST: training as",
                "the pipeline runs it, with only its batch norm kernels, and with DL4J's own layers (taking turns, on the",
                "same batches),",
                "and distributed Spark scoring against a plain single-JVM loop over the same images.",
                "All figures of one model come from this one process."})
final class ThroughputBenchmark implements Callable<Integer> {
    @Option(names = "--models", split = ",", description = "zoo models (default: all)")
    List<String> models = List.of("resnet20", "vgg", "mobilenetv1", "mobilenetv2");

    @Mixin
    FashionMnistData data = new FashionMnistData();

    @Option(names = "--train-batches", description = "timed training batches of 128 per model (default: ${DEFAULT-VALUE})")
    int trainBatches = 40;

    @Option(names = "--eval-images", description = "test images scored per measurement (default: ${DEFAULT-VALUE})")
    int evalImages = 10_000;

    @Option(names = "--master", description = "Spark master for the distributed measurement (default: ${DEFAULT-VALUE})")
    String master = "local[*]";

    @Override
    public Integer call() {
        OneDnn.enable();
        LabeledImages train = data.train();
        LabeledImages test = data.test(evalImages);
        BatchAssembler assembler = FashionMnistData.assembler(train);

        SparkSession spark = SparkSession.builder().master(master).appName("sparkslim-benchmark")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            Dataset<Row> images = FashionMnistData.table(spark, test);

            System.out.printf("benchmark: %d training batches of 128, %d test images, Spark %s (%d cores)%n",
                    trainBatches, test.size(), master, spark.sparkContext().defaultParallelism());
            System.out.printf("%-12s %12s %14s %12s %8s %12s %12s %12s %8s%n", "model", "train img/s", "fused BN img/s",
                    "DL4J img/s", "ratio", "infer img/s", "loop img/s", "spark img/s", "ratio");
            for (String model : models) {
                Throughput.Result r = Throughput.measure(model, train, test, assembler, trainBatches, net -> {
                    BroadcastModel broadcast = BroadcastModel.of(spark, net);
                    // the plain loop runs DL4J, so Spark does too; warm every thread first
                    DistributedScoring.predict(images, broadcast, assembler, 256, 1, ScoringEngine.DL4J).count();
                    long start = System.nanoTime();
                    long n = DistributedScoring.predict(images, broadcast, assembler, 256, 1, ScoringEngine.DL4J)
                            .count();
                    return n / ((System.nanoTime() - start) / 1e9);
                });
                System.out.printf("%-12s %12.0f %14.0f %12.0f %7.2fx %12.0f %12.0f %12.0f %7.2fx%n", model,
                        r.trainImagesPerSecond(), r.trainFusedBatchNormImagesPerSecond(), r.trainDl4jImagesPerSecond(),
                        r.trainImagesPerSecond() / r.trainDl4jImagesPerSecond(), r.inferenceImagesPerSecond(),
                        r.loopImagesPerSecond(), r.sparkImagesPerSecond(),
                        r.sparkImagesPerSecond() / r.loopImagesPerSecond());
            }
        } finally {
            spark.stop();
        }
        return 0;
    }
}
