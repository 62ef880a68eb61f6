package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.pruning.PruningSetup;
import org.sparkslim.jobs.pruning.SensitivityMeasurement;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.report.SensitivityChart;
import org.sparkslim.jobs.settings.ChannelSelection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.RestorationSettings;
import org.sparkslim.jobs.settings.SensitivitySettings;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.tables.SensitivityTable;

/**
 * How much each channel group can be pruned alone: every (group, ratio) pair is one Spark task that
 * prunes that group of the broadcast model and scores it on the val split. Writes
 * {@code sensitivities.parquet} (drop = relative top-1 drop from the unpruned model; reused = taken
 * from the previous run). Rows of an earlier run of this stage are reused when the model, the exact
 * pruning (kept channels) and the data are the same, so widening the ratio list or the scope
 * computes only what is new.
 */
public final class SensitivityStage implements Stage<SensitivityStage.Settings>, ReportSection {
    public record Settings(String model, SensitivitySettings sensitivity, ChannelSelection selection,
                           RestorationSettings restoration, DataSettings data) {
    }

    @Override
    public String name() {
        return "sensitivity";
    }

    @Override
    public String description() {
        return "val top-1 of the model with each group pruned alone at each ratio, in parallel";
    }

    @Override
    public Settings settings(SettingsReader r) {
        return new Settings(r.nonEmpty("prune.model", "name the stage whose model is measured"),
                SensitivitySettings.read(r), ChannelSelection.read(r), RestorationSettings.read(r), DataSettings.read(r));
    }

    @Override
    public List<String> inputs(Settings s) {
        return List.of("prepare-data", s.model());
    }

    @Override
    public List<String> outputs(Settings settings) {
        return List.of(SensitivityTable.TABLE.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        ModelCheckpoint.Loaded model = ModelCheckpoint.loadSingle(ctx, s.model());
        PruningSetup setup = PruningSetup.of(model.net(), s.selection());
        BatchAssembler assembler = s.data().assembler();
        String modelHash = model.record().sha256();
        String dataKey = dataKey(ctx.inputSignature("prepare-data"), s, assembler);
        LabeledImages val = SensitivityMeasurement.validationImages(ctx, assembler, s.sensitivity().maxImages());

        List<SensitivityMeasurement.Point> points = SensitivityMeasurement.measure(ctx, model.bytes(), modelHash, setup,
                val, PruningSetup.restoration(ctx, s.restoration(), assembler, s.sensitivity().batchSize()), assembler,
                s.sensitivity(), previousPoints(ctx, modelHash, dataKey));
        double base = points.get(0).top1();
        List<SensitivityTable.Point> rows = new ArrayList<>();
        for (SensitivityMeasurement.Point p : points) {
            rows.add(new SensitivityTable.Point(modelHash, p.group(), p.size(), p.ratio(), p.kept(),
                    setup.criterion().configName(), p.planKey(), dataKey, p.top1(), p.loss(), p.macs(), base,
                    (base - p.top1()) / base, p.reused()));
        }
        SensitivityTable.TABLE.write(ctx, rows);
    }

    /**
     * What a measured point depends on besides the model and its plan: the images it was scored on and
     * how the pruned variant was restored. Recalibration runs in training mode, so its batch size is part
     * of it; the tag "ridge held-out" keeps rows refitted with an earlier fixed ridge from being reused.
     */
    static String dataKey(String preparedData, Settings s, BatchAssembler assembler) {
        RestorationSettings restoration = s.restoration();
        String key = preparedData + "|" + s.sensitivity().maxImages() + "|" + assembler.normalization()
                + (restoration.recalibrationImages() == 0 ? "" : "|bn-recalibration " + restoration.recalibrationImages()
                + " batch " + s.sensitivity().batchSize())
                + (restoration.reconstructionImages() == 0 ? "" : "|reconstruction " + restoration.reconstructionImages()
                + " seed " + restoration.seed() + " ridge held-out");
        return ModelFiles.sha256(key.getBytes(StandardCharsets.UTF_8));
    }

    /** Points of the last completed run of this stage measured on the same model and data. */
    private static Map<SensitivityMeasurement.Key, SensitivityMeasurement.Point> previousPoints(
            StageContext<?> ctx, String modelHash, String dataKey) throws Exception {
        Map<SensitivityMeasurement.Key, SensitivityMeasurement.Point> points = new HashMap<>();
        Path previous = ctx.run().stage(ctx.stageName());
        if (ctx.run().completedSignature(ctx.stageName()).isEmpty()
                || !ctx.run().fileSystem().exists(new Path(previous, SensitivityTable.TABLE.file()))) {
            return points;
        }
        for (SensitivityTable.Point r : SensitivityTable.TABLE.ofModel(ctx.spark(), previous, modelHash, dataKey)) {
            SensitivityMeasurement.Point p = new SensitivityMeasurement.Point(r.group(), r.size(), r.ratio(), r.kept(),
                    r.planKey(), r.top1(), r.loss(), r.macs(), true);
            points.put(p.key(), p);
        }
        return points;
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) throws IOException {
        report.heading("Sensitivity (`" + stage + "`)").image(stage + ".png", "sensitivity curves",
                SensitivityChart.png(SensitivityTable.TABLE.sorted(report.spark(), checkpoint)));
    }
}
