package org.sparkslim.jobs.stages;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.ModelSettings;
import org.sparkslim.jobs.settings.RecipeSettings;
import org.sparkslim.jobs.settings.TeacherSettings;
import org.sparkslim.jobs.tables.HistoryTable;
import org.sparkslim.jobs.tables.ModelCheckpoint;
import org.sparkslim.jobs.training.ModelTraining;

/**
 * Trains a student against a teacher: the student is another stage's model (a pruned one, say) or a
 * new zoo model ({@code distill.student-model}); the loss is the {@code distill} section's weighted
 * combination of labels, soft labels at a temperature, and L2 and FSP losses between named layers.
 * The teacher runs on each (augmented) training batch. Writes the student as the stage's model.
 */
public final class DistillStage implements Stage<DistillStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(DistillStage.class);

    /**
     * @param student      the stage whose model learns, or empty for a new {@code studentModel}
     * @param studentModel the zoo model to build when {@code student} is empty (else null)
     */
    public record Settings(TeacherSettings teacher, String student, ModelSettings studentModel, DataSettings data,
                           RecipeSettings recipe, int epochs, double learningRate, long seed) {
    }

    @Override
    public String name() {
        return "distill";
    }

    @Override
    public String description() {
        return "train a student (a stage's model or a new zoo model) against a teacher's soft labels and features";
    }

    @Override
    public Settings settings(SettingsReader r) {
        r.nonEmpty("distill.teacher", "name the stage (or another run's checkpoint) that teaches");
        TeacherSettings teacher = TeacherSettings.read(r, "distill.teacher");
        String student = r.string("distill.student");
        ModelSettings studentModel = student.isEmpty() ? ModelSettings.read(r, "distill.student-model") : null;
        return new Settings(teacher, student, studentModel, DataSettings.read(r), RecipeSettings.read(r),
                r.integer("distill.epochs", Range.atLeast(1)), r.number("distill.learning-rate", Range.POSITIVE),
                r.whole("run.seed"));
    }

    @Override
    public List<String> inputs(Settings s) {
        Set<String> inputs = new LinkedHashSet<>(List.of("prepare-data"));
        inputs.addAll(s.teacher().inputs());
        if (!s.student().isEmpty()) {
            inputs.add(s.student());
        }
        return new ArrayList<>(inputs);
    }

    @Override
    public List<String> outputs(Settings settings) {
        return ModelCheckpoint.singleModelOutputs(HistoryTable.TABLE.file());
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        ComputationGraph student;
        String family;
        String widths;
        if (s.student().isEmpty()) {
            ModelSettings model = s.studentModel();
            student = model.family().build(model.family().spec(model.widths(), s.data().shape(), s.data().numClasses(),
                    s.seed()));
            family = model.family().name();
            widths = model.widths().toString();
            ModelCost cost = ModelCost.of(student, s.data().shape());
            LOG.info("distill: a new {} {} ({} MACs, {} params) learns from {}", family, widths, cost.macs(),
                    cost.params(), s.teacher().teacher());
        } else {
            ModelCheckpoint.Loaded loaded = ModelCheckpoint.loadSingle(ctx, s.student());
            student = loaded.net();
            family = loaded.record().family();
            widths = loaded.record().widths();
            LOG.info("distill: the model of {} learns from {}", s.student(), s.teacher().teacher());
        }
        ModelTraining.Teaching teaching = ModelTraining.teaching(ctx, s.teacher(), s.student());
        ModelTraining.trainAndWrite(ctx, s.data(), s.recipe().validateEachEpoch(), student,
                s.recipe().recipe(s.epochs(), s.learningRate(), s.seed()), teaching, family, widths);
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) {
        ModelTraining.reportHistory(report, stage, checkpoint);
    }
}
