package org.sparkslim.compression.distill;

import java.util.List;

/**
 * A loss between the student's features and the teacher's, added with its weight to the classifier's
 * loss while a student learns from a teacher ({@link FeatureLosses}). Layers are named by vertex.
 */
public sealed interface FeatureLoss permits FeatureLoss.L2, FeatureLoss.Fsp {
    double weight();

    /** The student's layers this loss reads. */
    List<String> studentLayers();

    /** The teacher's layers this loss reads. */
    List<String> teacherLayers();

    /** What the student is compared with, from the teacher alone. */
    FeatureTarget teacherTarget();

    /**
     * Mean squared error between a student layer's activation and a teacher layer's (FitNets' hint).
     * When their channel counts differ, a learned 1x1 convolution (a dense layer for flat activations)
     * maps the student's channels to the teacher's while training, and is dropped afterwards.
     *
     * @param teacherChannels the teacher's channels the student's layer carries, in order, for a student
     *                        pruned from the teacher (compared without an adapter); null for all of them
     */
    record L2(String student, String teacher, int[] teacherChannels, double weight) implements FeatureLoss {
        public L2 {
            checkWeight(weight);
        }

        public L2(String student, String teacher, double weight) {
            this(student, teacher, null, weight);
        }

        @Override
        public List<String> studentLayers() {
            return List.of(student);
        }

        @Override
        public List<String> teacherLayers() {
            return List.of(teacher);
        }

        /** The teacher layer's whole activation; a loss with mapped channels cuts it first. */
        @Override
        public FeatureTarget teacherTarget() {
            return new FeatureTarget.Activation(teacher);
        }

        @Override
        public String toString() {
            return "L2(student " + student + ", teacher " + teacher + ", weight " + weight + ")";
        }
    }

    /**
     * Mean squared error between the FSP matrix ({@link FspVertex}) of a student layer pair and that of a
     * teacher layer pair; the two layers of a pair have feature maps of one size. A student layer with
     * another channel count than its teacher layer gets a learned 1x1 adapter, as for {@link L2}.
     */
    record Fsp(String studentFrom, String studentTo, String teacherFrom, String teacherTo, double weight)
            implements FeatureLoss {
        public Fsp {
            checkWeight(weight);
            if (studentFrom.equals(studentTo) || teacherFrom.equals(teacherTo)) {
                throw new IllegalArgumentException("an FSP pair needs two different layers, got student "
                        + studentFrom + " -> " + studentTo + ", teacher " + teacherFrom + " -> " + teacherTo);
            }
        }

        @Override
        public List<String> studentLayers() {
            return List.of(studentFrom, studentTo);
        }

        @Override
        public List<String> teacherLayers() {
            return List.of(teacherFrom, teacherTo);
        }

        @Override
        public FeatureTarget teacherTarget() {
            return new FeatureTarget.FspMatrices(teacherFrom, teacherTo);
        }

        @Override
        public String toString() {
            return "FSP(student " + studentFrom + " -> " + studentTo + ", teacher " + teacherFrom + " -> " + teacherTo
                    + ", weight " + weight + ")";
        }
    }

    private static void checkWeight(double weight) {
        if (!(weight > 0) || Double.isInfinite(weight)) {
            throw new IllegalArgumentException("a feature loss's weight must be positive, got " + weight);
        }
    }
}
