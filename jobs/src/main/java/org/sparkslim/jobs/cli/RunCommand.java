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
import org.sparkslim.jobs.pipeline.RunDirectory;
import org.sparkslim.jobs.pipeline.StageOutcome;
import org.sparkslim.jobs.spark.SparkSessions;
import org.sparkslim.jobs.stages.EvaluateStage;
import org.sparkslim.jobs.stages.ReportStage;
import org.sparkslim.jobs.stages.Stages;
import org.sparkslim.jobs.tables.MetricsTable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the pipeline a config describes, skipping stages whose checkpoints are up to date.")
final class RunCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "CONF",
            description = "the run's HOCON config files; a later file overrides an earlier one (e.g. run.conf yarn.conf)")
    List<Path> configs;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "override a config value (repeatable), e.g. --set train.epochs=3")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--from", paramLabel = "STAGE", description = "re-run this stage and every stage after it")
    String from;

    @Override
    public Integer call() throws Exception {
        OneDnn.enable();
        Config conf = RunConfig.load(configs, overrides);
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
            if (outcomes.stream().anyMatch(o -> o.stage().equals("report"))) {
                System.out.println("Report: " + conf.getString("run.dir") + "/report/" + ReportStage.REPORT);
            }
            printMetrics(spark, conf);
            return 0;
        } finally {
            spark.stop();
        }
    }

    /** The metrics of the run's evaluate stage, when it has one. */
    private static void printMetrics(SparkSession spark, Config conf) {
        RunDirectory run = RunDirectory.open(conf.getString("run.dir"), spark.sparkContext().hadoopConfiguration());
        if (run.completedSignature("evaluate").isPresent()) {
            System.out.println();
            System.out.println(EvaluateStage.metricsTable(MetricsTable.TABLE.read(spark, run.stage("evaluate"))));
        }
    }
}
