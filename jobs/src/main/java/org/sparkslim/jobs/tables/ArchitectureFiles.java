package org.sparkslim.jobs.tables;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.Path;
import org.sparkslim.compression.model.InvertedResidualLayout;
import org.sparkslim.jobs.pipeline.RunDirectory;
import org.sparkslim.jobs.pipeline.StageContext;

/** The architecture a Light-NAS search chose ({@code architecture.json}), which a training stage builds. */
public final class ArchitectureFiles {
    public static final String ARCHITECTURE = "architecture.json";

    private ArchitectureFiles() {
    }

    public static void write(StageContext<?> ctx, InvertedResidualLayout layout) throws IOException {
        ctx.run().writeText(ctx.output(ARCHITECTURE), layout.toJson());
    }

    public static InvertedResidualLayout read(RunDirectory run, Path checkpoint) throws IOException {
        Path file = new Path(checkpoint, ARCHITECTURE);
        if (!run.fileSystem().exists(file)) {
            throw new IllegalArgumentException(checkpoint + " has no " + ARCHITECTURE + ": it is not a Light-NAS search's"
                    + " checkpoint");
        }
        return InvertedResidualLayout.fromJson(new String(run.read(file), StandardCharsets.UTF_8), file.toString());
    }
}
