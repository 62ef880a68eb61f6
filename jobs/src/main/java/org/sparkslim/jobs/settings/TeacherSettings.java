package org.sparkslim.jobs.settings;

import java.util.List;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * A teacher to learn from while training (a stage or another run's checkpoint, under a key such as
 * {@code finetune.teacher}; empty for none), with the {@code distill} settings and, for feature hints
 * cut to a pruned student's channels, how the teacher's channel graph treats unknown vertices.
 */
public record TeacherSettings(String teacher, DistillSettings distill, ChannelGraph.Unsupported unsupported) {
    public static final TeacherSettings NONE = new TeacherSettings("", null, null);

    /** An optional teacher under {@code key}. */
    public static TeacherSettings read(SettingsReader r, String key) {
        String teacher = r.string(key);
        if (teacher.isEmpty()) {
            // the distill section's losses may be another stage's (distill's): nothing to check here
            return NONE;
        }
        DistillSettings distill = DistillSettings.read(r);
        return new TeacherSettings(teacher, distill, distill.hintLayers().isEmpty() ? null : ChannelSelection.unsupported(r));
    }

    public boolean present() {
        return !teacher.isEmpty();
    }

    /**
     * A teacher (under {@code key}) runs on every batch in the driver: with the steps taken in the
     * executors, a fault under {@code train.distributed.mode}.
     */
    public void checkLocalSteps(SettingsReader r, RecipeSettings recipe, String key) {
        if (present() && !recipe.distributed().local()) {
            r.fault("train.distributed.mode", recipe.distributed().mode().title() + " cannot run " + key + " ("
                    + teacher + ") on every batch: train locally, or store the teacher's soft labels with the "
                    + "soft-labels stage and distill offline (distill.mode = offline)");
        }
    }

    /** The teacher as an input of the stage that learns from it. */
    public List<String> inputs() {
        return present() ? List.of(teacher) : List.of();
    }
}
