package org.sparkslim.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.prune.Restoration;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.QuantizationConfig;
import org.sparkslim.jobs.bench.SensitivitySpeedup;
import org.sparkslim.jobs.tables.ImageTable;

/** DL4J and ONNX Runtime score alike: the same probabilities within 1e-4, in evaluation and sensitivity. */
class ScoringEngineTest {
    static final ImageShape SHAPE = new ImageShape(1, 28, 28);
    static final BatchAssembler ASSEMBLER = new BatchAssembler(SHAPE, 10, new Normalization(0.286, 0.353));
    @RegisterExtension
    static final LocalSpark SPARK = new LocalSpark("local[2]", "scoring-engine-test");

    private final SparkSession spark = SPARK.session();

    /** A residual network whose batch norms have statistics of their own, so they shape the outputs. */
    static ComputationGraph network() {
        ModelFamily resnet = ModelZoo.family("resnet20");
        ComputationGraph net = resnet.build(resnet.spec(resnet.baseWidths().scaled(0.5), SHAPE, 10, 3));
        Random r = new Random(3);
        for (Layer layer : net.getLayers()) {
            if (layer instanceof BatchNormalization) {
                for (String p : List.of("gamma", "beta", "mean")) {
                    INDArray v = layer.getParam(p);
                    for (int i = 0; i < v.length(); i++) {
                        v.putScalar(i, (p.equals("gamma") ? 1 : 0) + 0.3 * r.nextGaussian());
                    }
                }
            }
        }
        return net;
    }

    static LabeledImages images(int n, long seed) {
        Random r = new Random(seed);
        byte[] pixels = new byte[n * SHAPE.pixels()];
        r.nextBytes(pixels);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = r.nextInt(10);
        }
        return new LabeledImages(SHAPE, pixels, labels);
    }

    @Test
    void evaluationGivesTheSamePredictionsInBothEngines() {
        LabeledImages test = images(96, 1);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            rows.add(RowFactory.create((long) i, test.labels()[i], test.image(i)));
        }
        Dataset<Row> images = spark.createDataFrame(rows, ImageTable.SCHEMA).repartition(3);
        BroadcastModel model = BroadcastModel.of(spark, network());
        List<Row> dl4j = DistributedScoring.predict(images, model, ASSEMBLER, 32, 1, ScoringEngine.DL4J).orderBy("id")
                .collectAsList();
        List<Row> onnx = DistributedScoring.predict(images, model, ASSEMBLER, 32, 1, ScoringEngine.ONNX_RUNTIME)
                .orderBy("id").collectAsList();
        assertEquals(dl4j.size(), onnx.size());
        double spread = 0;
        for (int i = 0; i < dl4j.size(); i++) {
            Row a = dl4j.get(i);
            Row b = onnx.get(i);
            assertEquals(a.getInt(2), b.getInt(2), "image " + i + ": same class");
            assertEquals(a.getDouble(4), b.getDouble(4), 1e-4, "image " + i + ": same probability");
            assertEquals(a.getDouble(3), b.getDouble(3), 1e-3, "image " + i + ": same loss");
            spread = Math.max(spread, a.getDouble(4));
        }
        assertTrue(spread > 0.2, "the network is not uniform: max confidence " + spread);
    }

    @Test
    void sensitivityVariantsScoreAlikeInBothEngines() {
        ComputationGraph net = network();
        List<SensitivityAnalysis.Task> tasks = SensitivitySpeedup.tasks(net, List.of(0.5)).subList(0, 4);
        BroadcastModel model = BroadcastModel.of(spark, net);
        LabeledImages val = images(64, 2);
        List<SensitivityAnalysis.Result> dl4j = SensitivityAnalysis.run(spark, model, tasks,
                new SensitivityAnalysis.Scoring(val, Restoration.none(), ASSEMBLER, 32, 1, ScoringEngine.DL4J));
        List<SensitivityAnalysis.Result> onnx = SensitivityAnalysis.run(spark, model, tasks,
                new SensitivityAnalysis.Scoring(val, Restoration.none(), ASSEMBLER, 32, 1, ScoringEngine.ONNX_RUNTIME));
        for (int i = 0; i < tasks.size(); i++) {
            assertEquals(dl4j.get(i).group(), onnx.get(i).group());
            assertEquals(dl4j.get(i).top1(), onnx.get(i).top1(), 1e-9, dl4j.get(i).group());
            assertEquals(dl4j.get(i).loss(), onnx.get(i).loss(), 1e-4, dl4j.get(i).group());
        }
    }

    @Test
    void aNetworkTheExporterCannotWriteIsScoredByDl4j() {
        ComputationGraph quantized = FakeQuantization.insert(network(), QuantizationConfig.DEFAULT);
        try (Scorer scorer = Scorer.open(quantized, ScoringEngine.ONNX_RUNTIME, SHAPE, 1)) {
            assertEquals(ScoringEngine.DL4J, scorer.engine());
        }
        try (Scorer scorer = Scorer.open(network(), ScoringEngine.ONNX_RUNTIME, SHAPE, 1)) {
            assertEquals(ScoringEngine.ONNX_RUNTIME, scorer.engine());
        }
    }
}
