package org.sparkslim.jobs.pipeline;

import com.typesafe.config.Config;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;

/** A test stage that writes one text file, reads its inputs' files, and records each run. */
class RecordingStage implements Stage {
    final String name;
    final List<String> configPaths;
    final List<String> inputs;
    final List<String> runs = new ArrayList<>();
    RuntimeException failWith;

    RecordingStage(String name, List<String> configPaths, List<String> inputs) {
        this.name = name;
        this.configPaths = configPaths;
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
    public List<String> configPaths() {
        return configPaths;
    }

    @Override
    public List<String> inputs(Config config) {
        return inputs;
    }

    @Override
    public List<String> outputs() {
        return List.of("out.txt");
    }

    @Override
    public void run(StageContext ctx) throws Exception {
        StringBuilder text = new StringBuilder(name);
        for (String input : inputs) {
            text.append('<').append(new String(ctx.run().read(new Path(ctx.input(input), "out.txt")),
                    StandardCharsets.UTF_8));
        }
        ctx.run().writeText(ctx.output("out.txt"), text.toString());
        runs.add(name);
        if (failWith != null) {
            throw failWith;
        }
    }
}
