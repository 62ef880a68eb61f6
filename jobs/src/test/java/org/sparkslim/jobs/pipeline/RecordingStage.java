package org.sparkslim.jobs.pipeline;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * A test stage that reads whole config sections, writes one text file, reads its inputs' files, and
 * records each run.
 */
class RecordingStage implements Stage<List<String>> {
    final String name;
    final List<String> sections;
    final List<String> inputs;
    final List<String> runs = new ArrayList<>();
    RuntimeException failWith;
    boolean writesNothing;

    RecordingStage(String name, List<String> sections, List<String> inputs) {
        this.name = name;
        this.sections = sections;
        this.inputs = inputs;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "test stage " + name;
    }

    @Override
    public List<String> settings(SettingsReader config) {
        sections.forEach(config::object);
        return inputs;
    }

    @Override
    public List<String> inputs(List<String> settings) {
        return settings;
    }

    @Override
    public List<String> outputs(List<String> settings) {
        return List.of("out.txt");
    }

    @Override
    public void run(StageContext<List<String>> ctx) throws Exception {
        StringBuilder text = new StringBuilder(ctx.stageName());
        for (String input : inputs) {
            text.append('<').append(new String(ctx.run().read(new Path(ctx.input(input), "out.txt")),
                    StandardCharsets.UTF_8));
        }
        if (!writesNothing) {
            ctx.run().writeText(ctx.output("out.txt"), text.toString());
        }
        runs.add(ctx.stageName());
        if (failWith != null) {
            throw failWith;
        }
    }
}
