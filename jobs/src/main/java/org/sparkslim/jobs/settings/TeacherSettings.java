package org.sparkslim.jobs.settings;

import java.util.List;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * A teacher to learn from while fine-tuning ({@code finetune.teacher}, a stage or another run's
 * checkpoint; empty for none), with the {@code distill} settings and, for feature hints cut to a
 * pruned student's channels, how the teacher's channel graph treats unknown vertices.
 */
public record TeacherSettings(String teacher, DistillSettings distill, ChannelGraph.Unsupported unsupported) {
    public static final TeacherSettings NONE = new TeacherSettings("", null, null);

    public static TeacherSettings read(SettingsReader r) {
        String teacher = r.string("finetune.teacher");
        if (teacher.isEmpty()) {
            List<String> hints = r.strings("distill.hint-layers");
            if (!hints.isEmpty()) {
                r.fault("distill.hint-layers", hints + " needs a teacher: set finetune.teacher");
            }
            return NONE;
        }
        DistillSettings distill = DistillSettings.read(r);
        return new TeacherSettings(teacher, distill,
                distill.hintLayers().isEmpty() ? null : ChannelSelection.unsupported(r));
    }

    public boolean present() {
        return !teacher.isEmpty();
    }

    /** The teacher as an input of the stage that learns from it. */
    public List<String> inputs() {
        return present() ? List.of(teacher) : List.of();
    }
}
