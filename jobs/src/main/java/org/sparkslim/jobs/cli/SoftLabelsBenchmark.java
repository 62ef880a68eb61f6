package org.sparkslim.jobs.cli;

import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.jobs.bench.TeacherInferenceSpeed;
import org.sparkslim.jobs.spark.ScoringEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "soft-labels", mixinStandardHelpOptions = true,
        description = {"Time a teacher's logits for training images as the soft-labels stage computes them (Spark,",
                "one native thread per task) against the best plain loop in one JVM on all cores (one thread using",
                "every core, or a thread per core), taking turns, and print images/s and the ratio."})
final class SoftLabelsBenchmark implements Callable<Integer> {
    @Option(names = "--model", description = "zoo model as the teacher (default: ${DEFAULT-VALUE})")
    String model = "resnet20";

    @Mixin
    FashionMnistData data = new FashionMnistData();

    @Option(names = "--images", description = "training images (default: ${DEFAULT-VALUE})")
    int images = 20_000;

    @Option(names = "--engine", description = "dl4j or onnxruntime (default: ${DEFAULT-VALUE})")
    String engine = "onnxruntime";

    @Option(names = "--batch-size", description = "images per forward pass (default: ${DEFAULT-VALUE})")
    int batchSize = 500;

    @Option(names = "--master", description = "Spark master (default: ${DEFAULT-VALUE})")
    String master = "local[*]";

    @Override
    public Integer call() throws Exception {
        OneDnn.enable();
        LabeledImages train = data.train();
        LabeledImages slice = train.slice(0, Math.min(images, train.size()));
        BatchAssembler assembler = FashionMnistData.assembler(train);
        ModelFamily f = ModelZoo.family(model);
        ComputationGraph teacher = f.build(f.spec(f.baseWidths(), train.shape(), 10, 1));
        SparkSession spark = SparkSession.builder().master(master).appName("sparkslim-soft-labels-benchmark")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            Dataset<Row> table = FashionMnistData.table(spark, slice);
            int cores = spark.sparkContext().defaultParallelism();
            TeacherInferenceSpeed.Result r = TeacherInferenceSpeed.measure(teacher, slice, table, assembler,
                    ScoringEngine.parse(engine), batchSize, cores);
            System.out.printf("soft labels: %s teacher, %d images, %s, batches of %d, Spark %s (%d cores)%n", model,
                    slice.size(), engine, batchSize, master, cores);
            System.out.printf("%14s %18s %18s %8s%n", "spark img/s", "1 thread img/s", "thread/core img/s", "ratio");
            System.out.printf("%14.0f %18.0f %18.0f %7.2fx%n", r.sparkImagesPerSecond(), r.oneThreadImagesPerSecond(),
                    r.threadPerCoreImagesPerSecond(), r.sparkImagesPerSecond() / r.bestLoop());
        } finally {
            spark.stop();
        }
        return 0;
    }
}
