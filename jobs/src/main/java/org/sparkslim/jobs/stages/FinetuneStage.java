package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.FineTuning;
import org.sparkslim.jobs.tables.HistoryTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.training.ModelTraining;

/**
 * Fine-tunes the model of another stage (a pruned one, usually) with the benchmark's fine-tuning
 * recipe: the {@code train} recipe with {@code finetune.epochs} and {@code finetune.learning-rate};
 * with {@code finetune.teacher} set, against that stage's soft labels as well (see {@code distill}).
 */
public final class FinetuneStage implements Stage<FinetuneStage.Settings>, ReportSection {
    public record Settings(String model, int epochs, FineTuning tuning, DataSettings data) {
    }

    @Override
    public String name() {
        return "finetune";
    }

    @Override
    public String description() {
        return "fine-tune the model of finetune.model on the train split";
    }

    @Override
    public Settings settings(SettingsReader r) {
        return new Settings(r.nonEmpty("finetune.model", "name the stage whose model is fine-tuned"),
                r.integer("finetune.epochs", Range.atLeast(1)), FineTuning.read(r), DataSettings.read(r));
    }

    @Override
    public List<String> inputs(Settings s) {
        List<String> inputs = new ArrayList<>();
        inputs.add("prepare-data");
        inputs.add(s.model());
        inputs.addAll(s.tuning().teacher().inputs());
        return inputs;
    }

    @Override
    public List<String> outputs(Settings settings) {
        return ModelCheckpoint.singleModelOutputs(HistoryTable.TABLE.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        ModelCheckpoint.Loaded model = ModelCheckpoint.loadSingle(ctx, s.model());
        ModelTraining.Teaching teaching = ModelTraining.teaching(ctx, s.tuning().teacher(), s.model());
        ModelTraining.trainAndWrite(ctx, s.data(), s.tuning().recipe(), model.net(),
                s.tuning().recipe(s.epochs(), 0), teaching, model.record().family(), model.record().widths());
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) throws IOException {
        ModelTraining.reportHistory(report, stage, checkpoint);
    }
}
