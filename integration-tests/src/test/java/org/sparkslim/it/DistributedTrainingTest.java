package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Training stages take their steps in the executors on local[2], by DL4J's parameter averaging and by
 * gradient sharing: from the labels (train, and QAT's fake-quantized network) and from a teacher's
 * stored soft labels (offline distill), every image once an epoch, with the usual history and checkpoints.
 */
class DistributedTrainingTest {
    private static final int TRAIN = 3000;

    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-distributed-it",
            "pipeline.stages=[prepare-data, train, soft-labels, distill, qat]",
            "data.limit.train=" + TRAIN, "data.limit.val=500", "data.limit.test=200", "data.partitions=3",
            "model.family=vgg", "model.width-multiplier=0.25", "train.epochs=2",
            "train.augmentation.padding=0", "train.augmentation.flip-probability=0",
            "train.distributed.mode=parameter-averaging", "train.distributed.averaging-frequency=2",
            "scoring.engine=dl4j", "soft-labels.teacher=train", "distill.mode=offline",
            "distill.student-model.family=vgg", "distill.student-model.width-multiplier=0.25", "distill.epochs=1",
            "qat.model=train", "qat.activations=dynamic", "qat.epochs=1", "quant.calibration-images=100");

    @Test
    void trainingAndOfflineDistillationTakeTheirStepsInTheExecutors() throws Exception {
        TestPipeline.requireFashionMnist();
        List<String> jobs = Collections.synchronizedList(new ArrayList<>());
        SparkSession.active().sparkContext().addSparkListener(new SparkListener() {
            @Override
            public void onJobStart(SparkListenerJobStart start) {
                String description = start.properties().getProperty("spark.job.description");
                if (description != null) {
                    jobs.add(description);
                }
            }
        });
        assertEquals(List.of("prepare-data", "train", "soft-labels", "distill", "qat"), TestPipeline.ran(it.run()));
        // 3000 images in rounds of 2 workers x 2 steps x 128 images: 6 rounds an epoch
        assertRan(jobs, "train: epoch 1/2, round 1/6 on 2 workers (parameter averaging)",
                "train: epoch 2/2, round 6/6 on 2 workers (parameter averaging)",
                "distill: epoch 1/1, round 6/6 on 2 workers (parameter averaging)",
                "qat: epoch 1/1, round 6/6 on 2 workers (parameter averaging)");

        List<Row> history = it.table("train", "history.parquet").orderBy("epoch").collectAsList();
        assertEquals(2, history.size());
        double lastLearningRate = history.get(1).getAs("learning_rate");
        assertTrue(lastLearningRate < 1e-3, "the cosine schedule counts the workers' steps and ends at 0, not "
                + lastLearningRate);
        double valTop1 = history.get(1).getAs("val_top1");
        // local training reaches 76% here; averaging copies that took half the steps each learns slower
        assertTrue(valTop1 > 0.4, "two averaged epochs on " + TRAIN + " images learn (10% is chance): " + valTop1);
        double images = history.get(1).<Double>getAs("images_per_second") * history.get(1).<Double>getAs("seconds");
        assertEquals(TRAIN, images, 1, "every round trains on all of its images, none skipped");

        ComputationGraph distilled = it.model("distill");
        double quantized = it.table("qat", "history.parquet").first().getAs("val_top1");
        assertTrue(quantized > valTop1 - 0.1, "QAT's fake-quantized layers train in the executors: " + quantized
                + " against the float model's " + valTop1);

        assertEquals(List.of("distill"), TestPipeline.ran(it.run("distill.soft-label-weight=0")));
        assertTrue(!it.model("distill").params().equals(distilled.params()),
                "the workers learn from the stored soft labels, not from the labels alone");

        // where the steps are taken is part of each training's signature
        assertEquals(List.of("train", "soft-labels", "distill", "qat"),
                TestPipeline.ran(it.run("train.distributed.mode=gradient-sharing")));
        // 3000 images in batches of 128, a batch per worker and step: 12 steps an epoch
        assertRan(jobs, "train: epoch 1/2, step 1/12 on 2 workers (gradient sharing)",
                "train: epoch 2/2, step 12/12 on 2 workers (gradient sharing)",
                "distill: epoch 1/1, step 12/12 on 2 workers (gradient sharing)",
                "qat: epoch 1/1, step 12/12 on 2 workers (gradient sharing)");
        List<Row> shared = it.table("train", "history.parquet").orderBy("epoch").collectAsList();
        double sharedTop1 = shared.get(1).getAs("val_top1");
        assertTrue(sharedTop1 > 0.4, "two epochs of shared gradients learn: " + sharedTop1);
        assertTrue(shared.get(1).<Double>getAs("learning_rate") < 1e-3);
        assertEquals(TRAIN, shared.get(1).<Double>getAs("images_per_second") * shared.get(1).<Double>getAs("seconds"),
                1, "every step's batches are all trained on");

        assertEquals(List.of("train", "soft-labels", "distill", "qat"),
                TestPipeline.ran(it.run("train.distributed.mode=local")));
    }

    private static void assertRan(List<String> jobs, String... descriptions) {
        for (String expected : descriptions) {
            assertTrue(jobs.contains(expected), "no Spark job '" + expected + "' among " + new ArrayList<>(jobs));
        }
    }
}
