package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.report.Report;
import org.sparkslim.jobs.report.ReportSection;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.settings.DistillSettings;
import org.sparkslim.jobs.settings.FeatureTargetSettings;
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
 * Online, the teacher runs on each (augmented) training batch; offline, the batches carry the logits
 * and feature targets a {@code soft-labels} stage stored (un-augmented images). Writes the student as
 * the stage's model.
 */
public final class DistillStage implements Stage<DistillStage.Settings>, ReportSection {
    private static final Logger LOG = LoggerFactory.getLogger(DistillStage.class);

    /**
     * @param teacher      the teacher run on each batch (online), or {@link TeacherSettings#NONE} offline
     * @param softLabels   the stage whose stored logits the batches carry (offline), or empty
     * @param storedBy     offline with feature losses, the teacher the soft-labels stage ran (its layers'
     *                     shapes size the adapters; it runs no forward pass here), else empty
     * @param student      the stage whose model learns, or empty for a new {@code studentModel}
     * @param studentModel the zoo model to build when {@code student} is empty (else null)
     */
    public record Settings(TeacherSettings teacher, DistillSettings losses, String softLabels, String storedBy,
                           String student, ModelSettings studentModel, DataSettings data, RecipeSettings recipe,
                           int epochs, double learningRate, long seed) {
        boolean offline() {
            return !softLabels.isEmpty();
        }
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
        boolean offline = r.choice("distill.mode", List.of("online", "offline")).equals("offline");
        RecipeSettings recipe = RecipeSettings.read(r);
        TeacherSettings teacher = TeacherSettings.NONE;
        DistillSettings losses;
        String softLabels = "";
        String storedBy = "";
        if (offline) {
            softLabels = r.nonEmpty("distill.soft-labels", "name the soft-labels stage whose logits the student learns from");
            losses = DistillSettings.read(r);
            if (!losses.hintLayers().isEmpty()) {
                r.fault("distill.hint-layers", "offline distillation has no hints; name the layers in distill.l2 and "
                        + "store the teacher's activations with " + FeatureTargetSettings.ACTIVATIONS);
            }
            if (!losses.losses().isEmpty()) {
                Set<String> stored = new LinkedHashSet<>();
                FeatureTargetSettings.read(r).forEach(t -> stored.add(t.key()));
                for (int i = 0; i < losses.losses().size(); i++) {
                    String target = losses.losses().get(i).teacherTarget().key();
                    if (!stored.contains(target)) {
                        // a loss's key is its list's and its index (distill.l2[0]); faults name a key of the config
                        String key = losses.lossKeys().get(i);
                        int index = key.indexOf('[');
                        r.fault(key.substring(0, index), key.substring(index) + ": offline, its teacher target ("
                                + target + ") must be stored by the soft-labels stage; it stores " + stored + " ("
                                + FeatureTargetSettings.ACTIVATIONS + ", " + FeatureTargetSettings.FSP + ")");
                    }
                }
                storedBy = r.nonEmpty("soft-labels.teacher", "name the teacher the soft-labels stage runs");
                if (!recipe.distributed().local()) {
                    r.fault("train.distributed.mode", recipe.distributed().mode().title() + " trains on the labels and "
                            + "stored logits only: feature losses (distill.l2, distill.fsp) train locally");
                }
            }
            if (!recipe.augmentation().equals(Augmentation.NONE)) {
                r.fault("distill.mode", "the stored logits are the teacher's answers for un-augmented images; offline "
                        + "distillation needs train.augmentation { padding = 0, flip-probability = 0 }");
            }
        } else {
            r.nonEmpty("distill.teacher", "name the stage (or another run's checkpoint) that teaches");
            teacher = TeacherSettings.read(r, "distill.teacher");
            teacher.checkLocalSteps(r, recipe, "distill.teacher");
            losses = teacher.distill();
        }
        String student = r.string("distill.student");
        ModelSettings studentModel = student.isEmpty() ? ModelSettings.read(r, "distill.student-model") : null;
        return new Settings(teacher, losses, softLabels, storedBy, student, studentModel, DataSettings.read(r), recipe,
                r.integer("distill.epochs", Range.atLeast(1)), r.number("distill.learning-rate", Range.POSITIVE),
                r.whole("run.seed"));
    }

    @Override
    public List<String> inputs(Settings s) {
        Set<String> inputs = new LinkedHashSet<>(List.of("prepare-data"));
        inputs.addAll(s.offline() ? List.of(s.softLabels()) : s.teacher().inputs());
        if (!s.storedBy().isEmpty()) {
            inputs.add(s.storedBy());
        }
        if (!s.student().isEmpty()) {
            inputs.add(s.student());
        } else {
            inputs.addAll(s.studentModel().inputs());
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
            ModelSettings.Built model = s.studentModel().build(ctx, s.data(), s.seed());
            student = model.net();
            family = model.family();
            widths = model.widths().toString();
            ModelCost cost = ModelCost.of(student, s.data().shape());
            LOG.info("distill: a new {} {} ({} MACs, {} params) learns", family, widths, cost.macs(), cost.params());
        } else {
            ModelCheckpoint.Loaded loaded = ModelCheckpoint.loadSingle(ctx, s.student());
            student = loaded.net();
            family = loaded.record().family();
            widths = loaded.record().widths();
            LOG.info("distill: the model of {} learns", s.student());
        }
        ModelTraining.Teaching teaching = s.offline()
                ? ModelTraining.Teaching.offline(ctx, s.losses(), s.softLabels(), s.storedBy())
                : ModelTraining.teaching(ctx, s.teacher(), s.student());
        ModelTraining.trainAndWrite(ctx, s.data(), s.recipe(), student,
                s.recipe().recipe(s.epochs(), s.learningRate(), s.seed()), teaching, family, widths);
    }

    @Override
    public void report(Report report, String stage, Path checkpoint) throws IOException {
        ModelTraining.reportHistory(report, stage, checkpoint);
    }
}
