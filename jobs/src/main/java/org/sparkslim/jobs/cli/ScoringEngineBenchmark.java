package org.sparkslim.jobs.cli;

import java.util.List;
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
import org.sparkslim.jobs.bench.EngineComparison;
import org.sparkslim.jobs.bench.SensitivitySpeedup;
import org.sparkslim.jobs.spark.SensitivityAnalysis;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "scoring-engine", mixinStandardHelpOptions = true,
        description = {"Time evaluation (the test split) and a sensitivity analysis (groups x ratios on val images)",
                "with DL4J and with ONNX Runtime as the scoring engine, taking turns in one Spark session, and print",
                "the speed-ups and how far the two engines' probabilities differ."})
final class ScoringEngineBenchmark implements Callable<Integer> {
    @Option(names = "--models", split = ",", description = "zoo models (default: all)")
    List<String> models = List.of("resnet20", "vgg", "mobilenetv1", "mobilenetv2");

    @Mixin
    FashionMnistData data = new FashionMnistData();

    @Option(names = "--eval-images", description = "test images scored (default: ${DEFAULT-VALUE})")
    int evalImages = 10_000;

    @Option(names = "--val-images", description = "val images per sensitivity variant (default: ${DEFAULT-VALUE})")
    int valImages = 1000;

    @Option(names = "--ratios", split = ",", description = "sensitivity ratios (default: ${DEFAULT-VALUE})")
    List<Double> ratios = List.of(0.3, 0.6);

    @Option(names = "--master", description = "Spark master (default: ${DEFAULT-VALUE})")
    String master = "local[*]";

    @Override
    public Integer call() {
        OneDnn.enable();
        LabeledImages train = data.train();
        LabeledImages test = data.test(evalImages);
        LabeledImages val = FashionMnistData.val(train, valImages);
        BatchAssembler assembler = FashionMnistData.assembler(train);
        SparkSession spark = SparkSession.builder().master(master).appName("sparkslim-engine-benchmark")
                .config("spark.ui.enabled", "false").getOrCreate();
        try {
            Dataset<Row> images = FashionMnistData.table(spark, test);
            System.out.printf("scoring engines: evaluation of %d test images; sensitivity of groups x %s on %d val images;"
                    + " Spark %s (%d cores)%n", test.size(), ratios, val.size(), master,
                    spark.sparkContext().defaultParallelism());
            System.out.printf("%-12s %10s %10s %8s %8s %10s %10s %8s %12s %9s%n", "model", "eval dl4j", "eval ort",
                    "ratio", "tasks", "sens dl4j", "sens ort", "ratio", "max |dp|", "agree");
            for (String family : models) {
                ModelFamily f = ModelZoo.family(family);
                ComputationGraph net = f.build(f.spec(f.baseWidths(), train.shape(), 10, 1));
                List<SensitivityAnalysis.Task> tasks = SensitivitySpeedup.tasks(net, ratios);
                EngineComparison.Result r = EngineComparison.measure(spark, net, images, val, tasks, assembler);
                System.out.printf("%-12s %9.1fs %9.1fs %7.2fx %8d %9.1fs %9.1fs %7.2fx %12.2e %8.2f%%%n", family,
                        r.dl4jEvaluationSeconds(), r.onnxEvaluationSeconds(),
                        r.dl4jEvaluationSeconds() / r.onnxEvaluationSeconds(), tasks.size(), r.dl4jSensitivitySeconds(),
                        r.onnxSensitivitySeconds(), r.dl4jSensitivitySeconds() / r.onnxSensitivitySeconds(),
                        r.maxConfidenceDifference(), 100 * r.agreement());
            }
        } finally {
            spark.stop();
        }
        return 0;
    }
}
