package org.sparkslim.jobs.cli;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.runtime.OneDnn;
import org.sparkslim.jobs.config.RunConfig;
import org.sparkslim.jobs.pipeline.CodeVersion;
import org.sparkslim.jobs.pipeline.Pipeline;
import org.sparkslim.jobs.pipeline.StageOutcome;
import org.sparkslim.jobs.spark.SparkSessions;
import org.sparkslim.jobs.stages.ReportStage;
import org.sparkslim.jobs.stages.Stages;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the pipeline a config describes, skipping stages whose checkpoints are up to date.")
final class RunCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONF", description = "the run's HOCON config file")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "override a config value (repeatable), e.g. --set train.epochs=3")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--from", paramLabel = "STAGE", description = "re-run this stage and every stage after it")
    String from;

    @Override
    public Integer call() throws Exception {
        OneDnn.enable();
        Config conf = RunConfig.load(config, overrides);
        Pipeline pipeline = new Pipeline(Stages.all(),
                CodeVersion.of(Version.get(), ModelZoo.class, Pipeline.class));
        pipeline.plan(conf);
        SparkSession spark = SparkSessions.create(conf);
        try {
            List<StageOutcome> outcomes = pipeline.run(spark, conf, from);
            System.out.println();
            System.out.println("Run directory: " + conf.getString("run.dir"));
            for (StageOutcome o : outcomes) {
                System.out.printf("  %-16s %-8s %s%n", o.stage(), o.status() == StageOutcome.Status.RAN
                        ? String.format("ran %.0fs", o.seconds()) : "skipped", "signature " + o.signature().substring(0, 12));
            }
            String report = conf.getString("run.dir") + "/report/" + ReportStage.REPORT;
            if (outcomes.stream().anyMatch(o -> o.stage().equals("report"))) {
                System.out.println("Report: " + report);
                printMetrics(spark, conf);
            }
            return 0;
        } finally {
            spark.stop();
        }
    }

    private static void printMetrics(SparkSession spark, Config conf) {
        String metrics = conf.getString("run.dir") + "/evaluate/metrics.parquet";
        System.out.println();
        System.out.println(ReportStage.metricsTable(spark.read().parquet(metrics).collectAsList()));
    }
}
