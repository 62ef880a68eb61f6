package org.sparkslim.compression.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.train.EpochCheckpoints;
import org.sparkslim.compression.train.InMemoryBatchSource;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;
import org.sparkslim.compression.train.TrainingTest;

class SoftLabelDistillationTest {
    static final ActivationSoftmax SOFTMAX = new ActivationSoftmax();

    /** Labels as the loss reads them: one-hot classes, then teacher logits. */
    static INDArray labels(int[] classes, INDArray teacherLogits) {
        INDArray oneHot = Nd4j.zeros(DataType.DOUBLE, classes.length, teacherLogits.size(1));
        for (int i = 0; i < classes.length; i++) {
            oneHot.putScalar(i, classes[i], 1.0);
        }
        return Nd4j.hstack(oneHot, teacherLogits);
    }

    @Test
    void gradientIsTheDerivativeOfTheScore() {
        Nd4j.getRandom().setSeed(3);
        INDArray z = Nd4j.randn(DataType.DOUBLE, 3, 4).muli(2);
        INDArray labels = labels(new int[] {0, 3, 1}, Nd4j.randn(DataType.DOUBLE, 3, 4).muli(3));
        SoftLabelLoss loss = new SoftLabelLoss(3.0, 0.6);
        INDArray gradient = loss.computeGradient(labels, z, SOFTMAX, null);
        double h = 1e-6;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 4; j++) {
                INDArray up = z.dup();
                up.putScalar(i, j, z.getDouble(i, j) + h);
                INDArray down = z.dup();
                down.putScalar(i, j, z.getDouble(i, j) - h);
                double numeric = (loss.computeScore(labels, up, SOFTMAX, null, false)
                        - loss.computeScore(labels, down, SOFTMAX, null, false)) / (2 * h);
                assertEquals(numeric, gradient.getDouble(i, j), 1e-6, "d score / d z[" + i + "," + j + "]");
            }
        }
    }

    @Test
    void withoutSoftLabelsItIsCrossEntropy() {
        Nd4j.getRandom().setSeed(4);
        INDArray z = Nd4j.randn(DataType.DOUBLE, 5, 6);
        INDArray labels = labels(new int[] {0, 1, 2, 3, 5}, Nd4j.randn(DataType.DOUBLE, 5, 6));
        INDArray oneHot = labels.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 6));
        SoftLabelLoss loss = new SoftLabelLoss(4.0, 0.0);
        LossMCXENT crossEntropy = new LossMCXENT();
        assertEquals(crossEntropy.computeScore(oneHot, z, SOFTMAX, null, true),
                loss.computeScore(labels, z, SOFTMAX, null, true), 1e-9);
        assertTrue(crossEntropy.computeGradient(oneHot, z.dup(), SOFTMAX, null)
                .equalsWithEps(loss.computeGradient(labels, z, SOFTMAX, null), 1e-9));
    }

    @Test
    void softTermVanishesWhenTheStudentAgreesWithTheTeacher() {
        Nd4j.getRandom().setSeed(5);
        INDArray t = Nd4j.randn(DataType.DOUBLE, 4, 5).muli(5);
        INDArray z = t.add(7.0); // softmax ignores a constant shift
        SoftLabelLoss loss = new SoftLabelLoss(2.0, 1.0);
        INDArray labels = labels(new int[] {0, 1, 2, 3}, t);
        assertEquals(0.0, loss.computeScore(labels, z, SOFTMAX, null, true), 1e-9);
        assertEquals(0.0, loss.computeGradient(labels, z, SOFTMAX, null).norm2Number().doubleValue(), 1e-9);
        assertTrue(loss.computeScore(labels, t.neg(), SOFTMAX, null, true) > 1, "a disagreeing student pays");
    }

    @Test
    void badLabelsAndSettingsAreNamed() {
        SoftLabelLoss loss = new SoftLabelLoss(4.0, 0.5);
        INDArray z = Nd4j.zeros(DataType.DOUBLE, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> loss.computeScore(Nd4j.zeros(DataType.DOUBLE, 2, 3), z, SOFTMAX, null, true));
        assertTrue(e.getMessage().contains("2 x 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SoftLabelLoss(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new SoftLabelLoss(4, 1.5));
    }

    static ComputationGraph smallVgg(int classes, long seed) {
        ModelFamily vgg = ModelZoo.family("vgg");
        return vgg.build(vgg.spec(vgg.baseWidths().scaled(0.25), TrainingTest.SHAPE, classes, seed));
    }

    @Test
    void teacherLogitsAreTheTeachersPreSoftmaxOutputs() {
        ComputationGraph teacher = smallVgg(4, 7);
        INDArray x = Nd4j.randn(DataType.FLOAT, 6, 1, 12, 12);
        INDArray probabilities = teacher.outputSingle(false, x);
        INDArray logits = new TeacherLogits(teacher).of(x);
        assertTrue(Transforms.softmax(logits, true).equalsWithEps(probabilities, 1e-5));
        assertTrue(logits.minNumber().doubleValue() < 0, "logits, not probabilities");
        assertTrue(teacher.outputSingle(false, x).equalsWithEps(probabilities, 1e-7), "the given teacher is unchanged");

        ComputationGraph regressor = smallVgg(4, 8);
        BaseOutputLayer output = (BaseOutputLayer) regressor.getOutputLayer(0).conf().getLayer();
        output.setActivationFn(new ActivationIdentity());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TeacherLogits(regressor));
        assertTrue(e.getMessage().contains("'" + output.getLayerName() + "'") && e.getMessage().contains("softmax"),
                e.getMessage());
    }

    @Test
    void studentLearnsTheTeachersAnswersAndKeepsItsOwnLoss() throws Exception {
        LabeledImages images = TrainingTest.bars(512, 1);
        BatchAssembler assembler = new BatchAssembler(TrainingTest.SHAPE, 4, new Normalization(0.15, 0.3));
        TrainingRecipe recipe = new TrainingRecipe(3, 32, 0.05, 0.9, 5e-4, Augmentation.NONE, 11);
        ComputationGraph teacher = smallVgg(4, 21);
        DataSet probe = InMemoryBatchSource.forEvaluation(TrainingTest.bars(128, 2), assembler, 128).epoch(0).next();
        INDArray teacherAnswers = teacher.outputSingle(false, probe.getFeatures());

        Trainer trainer = new Trainer(recipe, 4);
        ComputationGraph student = trainer.prepare(smallVgg(4, 22), images.size());
        double before = divergence(teacherAnswers, student.outputSingle(false, probe.getFeatures()));
        SoftLabelDistillation distillation = new SoftLabelDistillation(new TeacherLogits(teacher), 2.0, 1.0);
        BaseOutputLayer outputConf = (BaseOutputLayer) student.getOutputLayer(0).conf().getLayer();
        try (SoftLabelDistillation.Installed installed = distillation.installOn(student)) {
            assertInstanceOf(SoftLabelLoss.class, outputConf.getLossFn());
            trainer.fit(student, new InMemoryBatchSource(images, assembler, recipe.batchSize(),
                    recipe.augmentation(), true, recipe.seed()), distillation::targets, null, EpochCheckpoints.NONE);
        }
        double after = divergence(teacherAnswers, student.outputSingle(false, probe.getFeatures()));
        assertTrue(after < before / 4,
                "KL(teacher || student) on unseen images: before " + before + ", after " + after);
        assertInstanceOf(LossMCXENT.class, outputConf.getLossFn(), "the student's own loss is back");
        ComputationGraph reloaded = ModelFiles.fromBytes(ModelFiles.toBytes(student), "distilled student");
        assertTrue(reloaded.outputSingle(false, probe.getFeatures())
                .equalsWithEps(student.outputSingle(false, probe.getFeatures()), 1e-6));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> distillation.installOn(smallVgg(3, 23)));
        assertTrue(e.getMessage().contains("3 classes, the teacher 4"), e.getMessage());
    }

    /** Mean KL divergence between two batches of class probabilities. */
    static double divergence(INDArray p, INDArray q) {
        INDArray logRatio = Transforms.log(p.add(1e-12), false).subi(Transforms.log(q.add(1e-12), false));
        return p.mul(logRatio).sumNumber().doubleValue() / p.size(0);
    }
}
