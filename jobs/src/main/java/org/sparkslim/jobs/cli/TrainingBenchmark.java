package org.sparkslim.jobs.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.compression.train.InMemoryBatchSource;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.bench.DistributedTrainingSpeed;
import org.sparkslim.jobs.settings.DistributedTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "training", mixinStandardHelpOptions = true,
        description = {"Train one zoo model with the recipe in the driver, then in the executors by parameter",
                "averaging (DL4J's Spark training) and by gradient sharing, then in the driver again, on the same",
                "images, and print images/s, the ratio to the mean of the two local trainings and validation",
                "top-1 of each."})
final class TrainingBenchmark implements Callable<Integer> {
    @Option(names = "--model", description = "zoo model (default: ${DEFAULT-VALUE})")
    String model = "vgg";

    @Option(names = "--width", description = "width multiplier (default: ${DEFAULT-VALUE})")
    double width = 1.0;

    @Mixin
    FashionMnistData data = new FashionMnistData();

    @Option(names = "--images", description = "training images (default: ${DEFAULT-VALUE})")
    int images = 20_000;

    @Option(names = "--epochs", description = "epochs of each training (default: ${DEFAULT-VALUE})")
    int epochs = 1;

    @Option(names = "--averaging-frequency", split = ",",
            description = "steps between averagings, one training per value (default: ${DEFAULT-VALUE})")
    List<Integer> averagingFrequencies = List.of(5);

    @Option(names = "--gradient-sharing", negatable = true,
            description = "also train by gradient sharing (default: ${DEFAULT-VALUE})")
    boolean gradientSharing = true;

    @Option(names = "--master", description = "Spark master (default: ${DEFAULT-VALUE})")
    String master = "local[*]";

    @Override
    public Integer call() throws Exception {
        OneDnn.enable();
        LabeledImages train = data.train();
        LabeledImages slice = train.slice(0, Math.min(images, train.size() - 5000));
        BatchAssembler assembler = FashionMnistData.assembler(train);
        ModelFamily f = ModelZoo.family(model);
        ComputationGraph net = f.build(f.spec(f.baseWidths().scaled(width), train.shape(), 10, 42));
        TrainingRecipe recipe = new TrainingRecipe(epochs, 128, 0.1, 0.9, 5e-4, new Augmentation(2, 0.5), 42);
        SparkSession spark = SparkSession.builder().master(master).appName("sparkslim-training-benchmark")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            List<DistributedTraining> ways = new ArrayList<>();
            averagingFrequencies.forEach(n -> ways.add(
                    new DistributedTraining(DistributedTraining.Mode.PARAMETER_AVERAGING, n)));
            if (gradientSharing) {
                ways.add(new DistributedTraining(DistributedTraining.Mode.GRADIENT_SHARING, 1));
            }
            List<DistributedTrainingSpeed.Result> results = DistributedTrainingSpeed.measure(spark, net,
                    FashionMnistData.table(spark, slice), assembler, recipe,
                    InMemoryBatchSource.forEvaluation(FashionMnistData.val(train, 5000), assembler, 512),
                    ways);
            System.out.printf("training: %s x%s, %d images, %d epoch(s), batch 128, Spark %s (%d cores)%n", model, width,
                    slice.size(), epochs, master, spark.sparkContext().defaultParallelism());
            System.out.printf("%-32s %10s %8s %12s%n", "training", "img/s", "ratio", "val top-1 %");
            double localRate = (results.get(0).imagesPerSecond() + results.get(results.size() - 1).imagesPerSecond()) / 2;
            for (DistributedTrainingSpeed.Result r : results) {
                System.out.printf("%-32s %10.0f %7.2fx %12.2f%n", r.name(), r.imagesPerSecond(),
                        r.imagesPerSecond() / localRate, 100 * r.validationTop1());
            }
        } finally {
            spark.stop();
        }
        return 0;
    }
}
