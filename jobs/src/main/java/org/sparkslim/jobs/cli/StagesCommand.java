package org.sparkslim.jobs.cli;

import com.typesafe.config.Config;
import java.util.List;
import org.sparkslim.jobs.config.RunConfig;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.stages.Stages;
import picocli.CommandLine.Command;

@Command(name = "stages", mixinStandardHelpOptions = true, description = "List the stages a pipeline can run.")
final class StagesCommand implements Runnable {
    @Override
    public void run() {
        Config defaults = RunConfig.load(null, java.util.List.of());
        for (Stage s : Stages.all().all()) {
            System.out.printf("%-16s %s%n", s.name(), s.description());
            List<String> reads = s.inputs(defaults);
            System.out.printf("%-16s   reads:  %s%n", "", reads.isEmpty() ? "(source data)" : String.join(", ", reads));
            System.out.printf("%-16s   writes: %s%n", "", String.join(", ", s.outputs()));
            System.out.printf("%-16s   config: %s%n", "", String.join(", ", s.configPaths()));
        }
    }
}
