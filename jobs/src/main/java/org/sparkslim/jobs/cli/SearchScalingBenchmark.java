package org.sparkslim.jobs.cli;

import java.util.List;
import java.util.concurrent.Callable;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.jobs.bench.SearchScaling;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.config.RunConfig;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.settings.NasSettings;
import org.sparkslim.jobs.spark.CandidateTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "search", mixinStandardHelpOptions = true,
        description = {"Time one Light-NAS round (candidates from the default nas space, each trained briefly on",
                "Fashion-MNIST and scored on val) as a plain loop in this JVM and on two Spark masters, and print",
                "the ratios: Spark's overhead against the best loop, and how the round scales with cores."})
final class SearchScalingBenchmark implements Callable<Integer> {
    @Mixin
    FashionMnistData data = new FashionMnistData();

    @Option(names = "--candidates", description = "candidates in the round (default: ${DEFAULT-VALUE})")
    int candidates = 4;

    @Option(names = "--train-images", description = "train images per candidate, one epoch (default: ${DEFAULT-VALUE})")
    int trainImages = 2000;

    @Option(names = "--val-images", description = "val images per candidate (default: ${DEFAULT-VALUE})")
    int valImages = 1000;

    @Option(names = "--cores", description = "cores of the loops and the larger master (default: ${DEFAULT-VALUE})")
    int cores = 2;

    @Option(names = "--seed", description = "draws the candidates and their weights (default: ${DEFAULT-VALUE})")
    long seed = 42;

    @Override
    public Integer call() throws Exception {
        OneDnn.enable();
        SettingsReader reader = new SettingsReader(RunConfig.load(List.of(), List.of()), "nas", "nas");
        NasSettings nas = NasSettings.read(reader);
        if (!reader.faults().isEmpty()) {
            throw new ConfigException("the default nas settings: " + reader.faults());
        }
        LabeledImages all = data.train();
        LabeledImages train = all.slice(0, trainImages);
        LabeledImages val = FashionMnistData.val(all, valImages);
        CandidateTraining.Budget budget = new CandidateTraining.Budget(train, val, FashionMnistData.assembler(train),
                new TrainingRecipe(1, 64, 0.05, 0.9, 5e-4, 0, Augmentation.NONE, seed), 1);
        List<CandidateTraining.Task> tasks = SearchScaling.candidates(nas.space(), candidates, seed);
        System.out.printf("search benchmark: %d candidates from the default nas space, each 1 epoch on %d train images"
                + " and scored on %d val images%n", tasks.size(), train.size(), val.size());
        SearchScaling.sequential(tasks.subList(0, 1), budget, cores); // warm-up: JIT and native kernels

        double sequential = SearchScaling.sequential(tasks, budget, cores);
        double threaded = SearchScaling.threaded(tasks, budget, cores);
        double one = SearchScaling.spark("local[1]", tasks, budget);
        double many = SearchScaling.spark("local[" + cores + "]", tasks, budget);
        double bestLoop = Math.min(sequential, threaded);
        System.out.printf("%-42s %8.1f s%n", "loop, 1 thread x " + cores + " native threads", sequential);
        System.out.printf("%-42s %8.1f s%n", "loop, " + cores + " threads x 1 native thread", threaded);
        System.out.printf("%-42s %8.1f s%n", "Spark local[1]", one);
        System.out.printf("%-42s %8.1f s%n", "Spark local[" + cores + "]", many);
        System.out.printf("local[%d] against the best loop: %.2fx as fast%n", cores, bestLoop / many);
        System.out.printf("local[%d] against local[1]: %.2fx%n", cores, one / many);
        return 0;
    }
}
