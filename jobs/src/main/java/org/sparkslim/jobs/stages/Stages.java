package org.sparkslim.jobs.stages;

import org.sparkslim.jobs.pipeline.StageRegistry;

/** The stages SparkSlim ships, registered by name. */
public final class Stages {
    private Stages() {
    }

    public static StageRegistry all() {
        return new StageRegistry()
                .register(new PrepareDataStage())
                .register(new TrainStage())
                .register(new ImportStage())
                .register(new SoftLabelsStage())
                .register(new SensitivityStage())
                .register(new PruneSearchStage())
                .register(new NasStage())
                .register(new PruneStage())
                .register(new IterativePruneStage())
                .register(new FinetuneStage())
                .register(new DistillStage())
                .register(new QatStage())
                .register(new PtqStage())
                .register(new EvaluateStage())
                .register(new LatencyTableStage())
                .register(new ExportStage())
                .register(new ReportStage());
    }
}
