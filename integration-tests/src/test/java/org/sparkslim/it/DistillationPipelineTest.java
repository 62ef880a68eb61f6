package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.jobs.config.ConfigException;

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

    @Test
    @Order(3)
    void badLayersAreNamedWithTheirKey() {
        ConfigException teacherLayer = assertThrows(ConfigException.class,
                () -> it.run("distill.l2=[{student = block8.add, teacher = conv9.bn}]"));
        assertTrue(teacherLayer.getMessage().contains("distill.l2[0]")
                && teacherLayer.getMessage().contains("'conv9.bn' is not a vertex of the teacher"), teacherLayer.getMessage());
        ConfigException studentLayer = assertThrows(ConfigException.class,
                () -> it.run("distill.fsp=[{student = [block5.add, block9.add], teacher = [conv5.bn, conv6.bn]}]"));
        assertTrue(studentLayer.getMessage().contains("distill.fsp[0]")
                && studentLayer.getMessage().contains("'block9.add' is not a vertex of the student"), studentLayer.getMessage());
        ConfigException size = assertThrows(ConfigException.class,
                () -> it.run("distill.l2=[{student = block8.add, teacher = conv4.bn}]"));
        assertTrue(size.getMessage().contains("distill.l2[0]") && size.getMessage().contains("'block8.add' is 16x7x7")
                && size.getMessage().contains("'conv4.bn' 16x14x14"), size.getMessage());
    }
}
