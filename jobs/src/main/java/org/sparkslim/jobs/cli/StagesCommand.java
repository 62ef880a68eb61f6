package org.sparkslim.jobs.cli;

import com.typesafe.config.Config;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.sparkslim.jobs.config.RunConfig;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.stages.Stages;
import picocli.CommandLine.Command;

@Command(name = "stages", mixinStandardHelpOptions = true, description = "List the stages a pipeline can run.")
final class StagesCommand implements Runnable {
    @Override
    public void run() {
        Config defaults = RunConfig.load(List.of(), List.of());
        for (Stage<?> s : Stages.all().all()) {
            System.out.printf("%-16s %s%n", s.name(), s.description());
            Described d = describe(s, defaults);
            System.out.printf("%-16s   reads:  %s%n", "", d.inputs().isEmpty() ? "(source data)" : String.join(", ", d.inputs()));
            System.out.printf("%-16s   writes: %s%n", "", String.join(", ", d.outputs()));
            System.out.printf("%-16s   config: %s%n", "", String.join(", ", d.sections()));
        }
    }

    private record Described(List<String> inputs, List<String> outputs, Set<String> sections) {
    }

    /** A stage with the default settings: its inputs, outputs and the config sections of its keys. */
    private static <S> Described describe(Stage<S> stage, Config defaults) {
        SettingsReader reader = new SettingsReader(defaults, stage.name(), stage.name());
        S settings = stage.settings(reader);
        Set<String> sections = new TreeSet<>();
        for (String key : reader.keysRead().keySet()) {
            sections.add(key.substring(0, key.lastIndexOf('.') < 0 ? key.length() : key.lastIndexOf('.')));
        }
        return new Described(stage.inputs(settings), stage.outputs(settings), sections);
    }
}
