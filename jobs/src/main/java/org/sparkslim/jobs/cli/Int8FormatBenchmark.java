package org.sparkslim.jobs.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.jobs.bench.Int8Formats;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "int8-format", mixinStandardHelpOptions = true,
        description = {"Export models as float ONNX and as int8 ONNX in QOperator and QDQ form (MSE calibration on",
                "Fashion-MNIST val images), run all three in ONNX Runtime with one thread, taking turns, and print",
                "their agreement with DL4J, sizes and latency ratios."})
final class Int8FormatBenchmark implements Callable<Integer> {
    @Option(names = "--models", split = ",", description = "zoo families (default: ${DEFAULT-VALUE})")
    List<String> families = List.of("vgg", "resnet20", "mobilenetv2");

    @Option(names = "--model-files", split = ",", description = "trained DL4J model files to use instead of fresh weights")
    List<Path> modelFiles = List.of();

    @Mixin
    FashionMnistData data = new FashionMnistData();

    @Option(names = "--runs", description = "timed runs per batch size (default: ${DEFAULT-VALUE})")
    int runs = 100;

    @Override
    public Integer call() throws Exception {
        OneDnn.enable();
        LabeledImages val = FashionMnistData.val(data.train(), 500);
        BatchAssembler assembler = FashionMnistData.assembler(val);
        INDArray calibration = assembler.features(images(val, 500));
        INDArray batch1 = assembler.features(images(val, 1));
        INDArray batch64 = assembler.features(images(val, 64));
        List<String> names = new ArrayList<>();
        List<ComputationGraph> nets = new ArrayList<>();
        if (modelFiles.isEmpty()) {
            for (String family : families) {
                ModelFamily f = ModelZoo.family(family);
                names.add(family + " (fresh weights)");
                nets.add(f.build(f.spec(f.baseWidths(), val.shape(), 10, 1)));
            }
        } else {
            for (Path file : modelFiles) {
                names.add(file.toString());
                nets.add(ModelFiles.fromBytes(Files.readAllBytes(file), file.toString()));
            }
        }
        System.out.printf("%-40s %-15s %9s %7s %10s %10s %9s %9s%n", "model", "format", "bytes", "= DL4J",
                "ms b1", "ms b64", "b1 ratio", "b64 ratio");
        for (int i = 0; i < nets.size(); i++) {
            List<Int8Formats.Row> rows = Int8Formats.measure(nets.get(i), val.shape(), calibration, batch1, batch64, 20, runs);
            Int8Formats.Row base = rows.get(0);
            for (Int8Formats.Row r : rows) {
                System.out.printf("%-40s %-15s %9d %6.1f%% %10.3f %10.3f %8.2fx %8.2fx%n", names.get(i), r.format(), r.bytes(),
                        100 * r.top1Agreement(), r.millisBatch1(), r.millisBatch64(), r.millisBatch1() / base.millisBatch1(),
                        r.millisBatch64() / base.millisBatch64());
            }
        }
        return 0;
    }

    private static List<byte[]> images(LabeledImages images, int n) {
        List<byte[]> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(images.image(i));
        }
        return list;
    }
}
