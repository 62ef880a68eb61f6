package org.sparkslim.jobs.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "benchmark", mixinStandardHelpOptions = true,
        description = "Benchmarks that print ratios measured in one process (docs/BENCHMARKS.md).",
        subcommands = {ThroughputBenchmark.class, SensitivityBenchmark.class, ScoringEngineBenchmark.class,
                SoftLabelsBenchmark.class, Int8FormatBenchmark.class, SearchScalingBenchmark.class,
                TrainingBenchmark.class})
final class BenchmarkCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
