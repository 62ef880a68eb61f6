package org.sparkslim.jobs.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.jobs.bench.SensitivitySpeedup;
import org.sparkslim.jobs.spark.ScoringEngine;
import org.sparkslim.jobs.spark.SensitivityAnalysis;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "sensitivity", mixinStandardHelpOptions = true,
        description = {"Time the same sensitivity analysis (every group of a model x the ratios, scored on the",
                "Fashion-MNIST val split) on two Spark masters in this one process, and print the speed-up."})
final class SensitivityBenchmark implements Callable<Integer> {
    @Option(names = "--model", description = "a zoo family (default: ${DEFAULT-VALUE})")
    String family = "vgg";

    @Option(names = "--model-file", description = "a trained DL4J model file to use instead of fresh weights")
    Path modelFile;

    @Mixin
    FashionMnistData data = new FashionMnistData();

    @Option(names = "--val-images", description = "val images per evaluation (default: ${DEFAULT-VALUE})")
    int valImages = 5000;

    @Option(names = "--ratios", split = ",", description = "ratios (default: 0.1 .. 0.9)")
    List<Double> ratios = List.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9);

    @Option(names = "--masters", split = ",", description = "Spark masters to compare (default: ${DEFAULT-VALUE})")
    List<String> masters = List.of("local[1]", "local[2]");

    @Option(names = "--engine", description = "scoring engine: dl4j or onnxruntime (default: ${DEFAULT-VALUE})")
    String engine = ScoringEngine.ONNX_RUNTIME.configName();

    @Override
    public Integer call() throws Exception {
        OneDnn.enable();
        LabeledImages val = FashionMnistData.val(data.train(), valImages);
        BatchAssembler assembler = FashionMnistData.assembler(val);
        ModelFamily f = ModelZoo.family(family);
        ComputationGraph net = modelFile != null
                ? ModelFiles.fromBytes(java.nio.file.Files.readAllBytes(modelFile), modelFile.toString())
                : f.build(f.spec(f.baseWidths(), val.shape(), 10, 1));
        List<SensitivityAnalysis.Task> tasks = SensitivitySpeedup.tasks(net, ratios);
        System.out.printf("sensitivity benchmark: %s, %d tasks (groups x ratios), %d val images each, scored by %s%n",
                modelFile != null ? modelFile : family, tasks.size(), val.size(), engine);
        double first = Double.NaN;
        for (String master : masters) {
            double seconds = SensitivitySpeedup.seconds(master, net, tasks, val, assembler, ScoringEngine.parse(engine));
            if (Double.isNaN(first)) {
                first = seconds;
            }
            System.out.printf("%-10s %8.1f s   %6.2f tasks/s   speed-up %.2fx%n", master, seconds, tasks.size() / seconds,
                    first / seconds);
        }
        return 0;
    }
}
