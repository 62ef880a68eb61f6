package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.compression.distill.FeatureTarget;
import org.sparkslim.compression.distill.SoftLabelDistillation;
import org.sparkslim.compression.distill.TeacherLogits;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.spark.SparkBatchSource;
import org.sparkslim.jobs.tables.SoftLabelsTable;

/**
 * The distill stage trains a student of another family against a teacher's soft labels, an L2 loss
 * and an FSP loss between layers of different names and widths, then a label-only fine-tune and QAT
 * with the teacher follow in the same run.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DistillationPipelineTest {
    /** Both 7x7 in each network: vgg's last two convolutions, mobilenetv2's last residual sums. */
    static final String L2 = "distill.l2=[{student = block8.add, teacher = conv6.bn, weight = 0.5}]";
    static final String FSP = "distill.fsp=[{student = [block5.add, block8.add], teacher = [conv5.bn, conv6.bn]}]";

    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-distill-it",
            "pipeline.stages=[prepare-data, train, distill, finetune, qat]",
            "data.limit.train=1500", "data.limit.val=200", "data.limit.test=200", "data.partitions=3",
            "model.family=vgg", "model.width-multiplier=0.25", "train.epochs=1",
            "distill.teacher=train", "distill.student-model.family=mobilenetv2",
            "distill.student-model.width-multiplier=0.25", "distill.epochs=1", L2, FSP,
            "finetune.model=distill", "finetune.epochs=1", "qat.model=finetune", "qat.teacher=train",
            "quant.calibration-images=100");

    @Test
    @Order(1)
    void aStudentOfAnotherFamilyLearnsFromTheTeachersFeatures() throws Exception {
        TestPipeline.requireFashionMnist();
        assertEquals(List.of("prepare-data", "train", "distill", "finetune", "qat"), TestPipeline.ran(it.run()));
        ComputationGraph student = it.model("distill");
        ModelFamily mobilenet = ModelZoo.family("mobilenetv2");
        ComputationGraph fresh = mobilenet.build(mobilenet.spec(mobilenet.baseWidths().scaled(0.25),
                new ImageShape(1, 28, 28), 10, 1));
        assertEquals(fresh.getConfiguration().getVertices().keySet(), student.getConfiguration().getVertices().keySet(),
                "the saved student is the zoo network, with no adapter or loss vertex left");
        assertEquals(fresh.numParams(), student.numParams());
        Row record = it.table("distill", "models.parquet").first();
        assertEquals("mobilenetv2", record.getAs("family"));
        assertEquals(1, it.table("distill", "history.parquet").count());
        assertTrue(it.table("finetune", "history.parquet").count() == 1 && it.table("qat", "history.parquet").count() == 1,
                "the label-only fine-tune and QAT with the teacher ran after it");

        // without the FSP loss the student learns something else; only the student and what follows rerun
        assertEquals(List.of("distill", "finetune", "qat"), TestPipeline.ran(it.run("distill.fsp=[]")));
        assertTrue(!it.model("distill").params().equals(student.params()), "the FSP loss changes what the student learns");
    }

    @Test
    @Order(2)
    void qatLearnsFromTheTeacher() throws Exception {
        it.run();
        ComputationGraph taught = it.model("qat");
        assertEquals(List.of("qat"), TestPipeline.ran(it.run("qat.teacher=\"\"")));
        assertTrue(!it.model("qat").params().equals(taught.params()), "the teacher changes what QAT learns");
    }

    /** Offline and online soft labels, without augmentation: the same batches with the same logits. */
    static final List<String> OFFLINE = List.of("pipeline.stages=[prepare-data, train, soft-labels, distill]",
            "train.augmentation.padding=0", "train.augmentation.flip-probability=0", "scoring.engine=dl4j",
            "distill.l2=[]", "distill.fsp=[]", "distill.mode=offline");

    @Test
    @Order(3)
    void offlineDistillationLearnsWhatOnlineDistillationLearns() throws Exception {
        assertEquals(List.of("train", "soft-labels", "distill"), TestPipeline.ran(it.run(OFFLINE)));
        ComputationGraph offline = it.model("distill");
        it.run(OFFLINE, "distill.mode=online");
        ComputationGraph online = it.model("distill");
        it.run(OFFLINE, "distill.mode=online", "distill.soft-label-weight=0");
        ComputationGraph labelsOnly = it.model("distill");
        // the stored logits differ from the driver's by float noise, which training amplifies; a
        // misaligned join or ignored logits would put offline at least as far away as labels only
        double sameLogits = offline.params().distance1(online.params()) / offline.numParams();
        double otherLoss = offline.params().distance1(labelsOnly.params()) / offline.numParams();
        assertTrue(sameLogits < otherLoss / 5, "mean weight difference, offline against online " + sameLogits
                + ", against labels only " + otherLoss);

        // batch by batch: the same images in the same order, the stored logits the teacher's own
        BatchAssembler assembler = new BatchAssembler(new ImageShape(1, 28, 28), 10, Normalization.FASHION_MNIST);
        SparkBatchSource source = new SparkBatchSource(it.table("prepare-data", "train.parquet"), assembler, 128,
                Augmentation.NONE, true, 42, "test");
        SparkBatchSource stored = source.withTeacherLogits(it.table("soft-labels", "soft-labels.parquet"), "test");
        SoftLabelDistillation teacher = new SoftLabelDistillation(new TeacherLogits(it.model("train")), 4, 0.9);
        Iterator<DataSet> plain = source.epoch(3);
        Iterator<DataSet> withLogits = stored.epoch(3);
        for (int batch = 0; batch < 3; batch++) {
            DataSet a = plain.next();
            DataSet b = withLogits.next();
            assertEquals(a.getFeatures(), b.getFeatures(), "batch " + batch);
            assertTrue(teacher.targets(a).getLabels(0).equalsWithEps(b.getLabels(), 1e-4), "batch " + batch);
        }

        ConfigException otherSplit = assertThrows(ConfigException.class, () -> it.run(OFFLINE, "soft-labels.split=val"));
        assertTrue(otherSplit.getMessage().contains("soft-labels.parquet has teacher logits for 0 of the 1500 training "
                + "images"), otherSplit.getMessage());
    }

    /** Offline with an L2 and an FSP loss: their teacher targets stored beside the logits. */
    static final List<String> OFFLINE_FEATURES = List.of("pipeline.stages=[prepare-data, train, soft-labels, distill]",
            "train.augmentation.padding=0", "train.augmentation.flip-probability=0", "distill.mode=offline", L2, FSP,
            "soft-labels.activations=[conv6.bn]", "soft-labels.fsp=[{from = conv5.bn, to = conv6.bn}]");

    @Test
    @Order(4)
    void offlineDistillationLearnsFromStoredFeatureTargets() throws Exception {
        assertEquals(List.of("soft-labels", "distill"), TestPipeline.ran(it.run(OFFLINE_FEATURES)));
        List<Row> manifest = it.table("soft-labels", "feature-targets.parquet").orderBy("position").collectAsList();
        assertEquals(List.of("activation of conv6.bn", "FSP of conv5.bn -> conv6.bn"),
                manifest.stream().map(r -> r.<String>getAs("key")).toList());

        // the stored targets are the teacher's own, in the manifest's order and sizes
        List<Row> rows = it.table("prepare-data", "train.parquet")
                .join(it.table("soft-labels", "soft-labels.parquet"), "id").orderBy("id").limit(4).collectAsList();
        BatchAssembler assembler = new BatchAssembler(new ImageShape(1, 28, 28), 10, Normalization.FASHION_MNIST);
        TeacherLogits teacher = new TeacherLogits(it.model("train")).tapping(List.of("conv5.bn", "conv6.bn"));
        Map<String, INDArray> activations = teacher.activations(
                assembler.features(rows.stream().map(r -> (byte[]) r.getAs("image")).toList()));
        List<FeatureTarget> targets = List.of(new FeatureTarget.Activation("conv6.bn"),
                new FeatureTarget.FspMatrices("conv5.bn", "conv6.bn"));
        for (int t = 0; t < targets.size(); t++) {
            INDArray expected = targets.get(t).of(activations);
            assertEquals(expected.size(1), manifest.get(t).<Long>getAs("width"), targets.get(t).key());
            for (int i = 0; i < rows.size(); i++) {
                List<byte[]> stored = rows.get(i).getList(rows.get(i).fieldIndex("features"));
                float[] values = SoftLabelsTable.floats(stored.get(t));
                assertTrue(Nd4j.create(values).equalsWithEps(expected.getRow(i).castTo(DataType.FLOAT), 1e-4),
                        targets.get(t).key() + ", image " + i);
            }
        }

        // the stored targets change what the student learns
        ComputationGraph withTargets = it.model("distill");
        assertEquals(List.of("distill"), TestPipeline.ran(it.run(OFFLINE_FEATURES, "distill.l2=[]", "distill.fsp=[]")));
        assertTrue(!it.model("distill").params().equals(withTargets.params()),
                "the stored feature targets change what the student learns");

        // a loss whose target the soft-labels stage does not store is a fault before anything runs
        ConfigException missing = assertThrows(ConfigException.class,
                () -> it.run(OFFLINE_FEATURES, "soft-labels.activations=[]"));
        assertTrue(missing.getMessage().contains("distill.l2") && missing.getMessage().contains("[0]: offline, its teacher "
                + "target (activation of conv6.bn) must be stored by the soft-labels stage"), missing.getMessage());
    }

    @Test
    @Order(5)
    void badLayersAreNamedWithTheirKey() {
        ConfigException teacherLayer = assertThrows(ConfigException.class,
                () -> it.run("distill.l2=[{student = block8.add, teacher = conv9.bn}]"));
        assertTrue(teacherLayer.getMessage().contains("distill.l2[0]") && teacherLayer.getMessage()
                .contains("'conv9.bn' is not a vertex of the teacher"), teacherLayer.getMessage());
        ConfigException studentLayer = assertThrows(ConfigException.class,
                () -> it.run("distill.fsp=[{student = [block5.add, block9.add], teacher = [conv5.bn, conv6.bn]}]"));
        assertTrue(studentLayer.getMessage().contains("distill.fsp[0]") && studentLayer.getMessage()
                .contains("'block9.add' is not a vertex of the student"), studentLayer.getMessage());
        ConfigException size = assertThrows(ConfigException.class,
                () -> it.run("distill.l2=[{student = block8.add, teacher = conv4.bn}]"));
        assertTrue(size.getMessage().contains("distill.l2[0]") && size.getMessage().contains("'block8.add' is 16x7x7")
                && size.getMessage().contains("'conv4.bn' 16x14x14"), size.getMessage());
    }
}
