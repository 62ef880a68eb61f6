package org.sparkslim.compression.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.TestNetworks;
import org.sparkslim.compression.train.Trainer;
import org.sparkslim.compression.train.TrainingRecipe;

class FakeQuantizationTest {
    @Test
    void fakeQuantizeRoundsForwardAndPassesGradientsInsideTheRange() {
        FakeQuantize conf = new FakeQuantize(new ActivationGrid(8, true), ActivationRange.DYNAMIC, 0.9, 10);
        conf.freeze(1.27); // scale 0.01 on [-1.28, 1.27]
        Layer layer = conf.instantiate(new NeuralNetConfiguration.Builder().layer(conf).build(), null, 0, null, true, DataType.FLOAT);
        INDArray x = Nd4j.createFromArray(new float[] {0.004f, 0.016f, -0.5f, 3.0f, -3.0f}).reshape(1, 5);
        layer.setInput(x, LayerWorkspaceMgr.noWorkspaces());
        INDArray y = layer.activate(true, LayerWorkspaceMgr.noWorkspaces());
        assertArrayClose(new float[] {0f, 0.02f, -0.5f, 1.27f, -1.28f}, y.toFloatVector());

        INDArray grad = layer.backpropGradient(Nd4j.ones(DataType.FLOAT, 1, 5), LayerWorkspaceMgr.noWorkspaces()).getSecond();
        assertArrayClose(new float[] {1, 1, 1, 0, 0}, grad.toFloatVector()); // clipped values get no gradient
    }

    @Test
    void movingAverageAndWindowRangesLearnFromTrainingBatchesOnly() {
        FakeQuantize ema = new FakeQuantize(new ActivationGrid(8, false), ActivationRange.MOVING_AVERAGE_ABS_MAX, 0.5, 10);
        FakeQuantize window = new FakeQuantize(new ActivationGrid(8, false), ActivationRange.WINDOW_ABS_MAX, 0.5, 2);
        for (FakeQuantize conf : List.of(ema, window)) {
            Layer layer = conf.instantiate(new NeuralNetConfiguration.Builder().layer(conf).build(), null, 0, null, true, DataType.FLOAT);
            for (float max : new float[] {4, 2, 1}) {
                layer.setInput(Nd4j.createFromArray(new float[] {0, max}).reshape(1, 2), LayerWorkspaceMgr.noWorkspaces());
                layer.activate(true, LayerWorkspaceMgr.noWorkspaces());
            }
            layer.setInput(Nd4j.createFromArray(new float[] {0, 100}).reshape(1, 2), LayerWorkspaceMgr.noWorkspaces());
            layer.activate(false, LayerWorkspaceMgr.noWorkspaces()); // inference does not learn
        }
        assertEquals(0.5 * (0.5 * 4 + 0.5 * 2) + 0.5 * 1, ema.range(), 1e-9);
        assertEquals(2, window.range(), 1e-9); // max of the last two batches
    }

    @Test
    void quantizersSitOnEveryInt8TensorWithTheRightSign() {
        ComputationGraph q = FakeQuantization.insert(TestNetworks.zoo("resnet20"), QuantizationConfig.DEFAULT);
        Map<String, FakeQuantize> quantizers = FakeQuantization.quantizers(q);
        assertTrue(quantizers.containsKey("input/quant") && quantizers.get("input/quant").grid().signed());
        // a block's output (after its ReLU) is read by the next block's conv and add: one unsigned quantizer
        assertFalse(quantizers.get("stage1.block1.relu/quant").grid().signed());
        // a linear conv feeding an add is signed; batch norms are gone (folded)
        assertTrue(quantizers.get("stage1.block1.conv2/quant").grid().signed());
        assertFalse(q.getConfiguration().getVertices().containsKey("stem.bn"));
        assertTrue(FakeQuantization.quantizedLayers(q).containsAll(List.of("stem", "stage3.block1.shortcut", "fc")));

        ComputationGraph skipped = FakeQuantization.insert(TestNetworks.zoo("resnet20"), new QuantizationConfig(
                WeightQuantizer.CHANNEL_WISE_ABS_MAX, 8, 8, ActivationRange.DYNAMIC, 0.9, 10, List.of("stem", "fc")));
        assertFalse(FakeQuantization.quantizedLayers(skipped).contains("stem"));
        assertFalse(FakeQuantization.quantizedLayers(skipped).contains("fc"));
        assertTrue(FakeQuantization.quantizedLayers(skipped).contains("stage1.block1.conv1"));
    }

    @Test
    void calibratedNetworkStaysCloseToTheFloatNetworkAndOnItsGrids() {
        ComputationGraph net = TestNetworks.zoo("vgg");
        ComputationGraph q = FakeQuantization.insert(net, QuantizationConfig.DEFAULT);
        INDArray x = images(32, 1);
        ActivationStatistics stats = new ActivationStatistics(RangeFreezing.tensors(q), 1024);
        stats.observe(BatchNormFolding.fold(net), x);
        RangeFreezing.calibrate(q, stats, Calibration.ABS_MAX, 0);

        Map<String, INDArray> activations = q.feedForward(x, false);
        FakeQuantization.quantizers(q).forEach((name, fq) -> {
            INDArray steps = activations.get(name).div(fq.scale());
            assertTrue(steps.sub(Nd4j.math().round(steps)).amaxNumber().doubleValue() < 1e-3, name + " is off its grid");
            assertTrue(steps.maxNumber().doubleValue() <= fq.grid().qmax() + 1e-3, name);
            assertTrue(steps.minNumber().doubleValue() >= fq.grid().qmin() - 1e-3, name);
        });
        Map<String, LayerError> errors = QuantizationError.measure(FakeQuantization.strip(q), q, x);
        assertTrue(FakeQuantization.strip(q).outputSingle(false, x)
                .equalsWithEps(BatchNormFolding.fold(net).outputSingle(false, x), 1e-4), "stripping gives the float network back");
        errors.values().forEach(e -> assertTrue(e.sqnrDb() > 15 && e.cosine() > 0.98, e.toString()));
    }

    @Test
    void freezingKeepsLearnedRangesAndFixesDynamicOnesAtTheirMeanBatchRange() {
        ComputationGraph net = TestNetworks.zoo("mobilenetv2");
        ComputationGraph dynamic = FakeQuantization.insert(net, new QuantizationConfig(
                WeightQuantizer.CHANNEL_WISE_ABS_MAX, 8, 8, ActivationRange.DYNAMIC, 0.9, 100, List.of()));
        ActivationStatistics stats = new ActivationStatistics(RangeFreezing.tensors(dynamic), 256);
        stats.observe(dynamic, images(8, 3));
        stats.observe(dynamic, images(8, 4));
        RangeFreezing.freezeLearned(dynamic, stats);
        FakeQuantization.quantizers(dynamic).forEach((name, q) -> {
            assertTrue(q.frozen(), name);
            assertEquals(stats.meanBatchMax(FakeQuantization.tensorOf(dynamic, name)), q.range(), 1e-12, name);
        });

        ComputationGraph learned = FakeQuantization.insert(net, QuantizationConfig.DEFAULT);
        FakeQuantization.quantizers(learned).values().forEach(q -> q.learnRange(1.5));
        RangeFreezing.freezeLearned(learned, new ActivationStatistics(List.of(), 8));
        FakeQuantization.quantizers(learned).values().forEach(q -> assertEquals(1.5, q.range(), 0));
    }

    @Test
    void qatTrainsFloatWeightsThroughTheQuantizersAndSavesLearnedRanges() throws Exception {
        ComputationGraph q = FakeQuantization.insert(TestNetworks.zoo("resnet20"), QuantizationConfig.DEFAULT);
        TrainingRecipe recipe = new TrainingRecipe(1, 16, 0.01, 0.9, 0, Augmentation.NONE, 3);
        ComputationGraph trainable = new Trainer(recipe, 10).prepare(q, 64);
        DataSet batch = new DataSet(images(16, 2), Nd4j.eye(10).getRows(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5));
        INDArray before = trainable.getLayer("stage1.block1.conv1").getParam("W").dup();
        double firstLoss = trainable.score(batch);
        for (int i = 0; i < 15; i++) {
            trainable.fit(batch);
        }
        INDArray after = trainable.getLayer("stage1.block1.conv1").getParam("W");
        assertNotEquals(before, after, "float weights are updated");
        assertTrue(trainable.score(batch) < firstLoss, "the loss falls through the straight-through estimator");
        double learned = FakeQuantization.quantizers(trainable).get("stage1.block1.relu/quant").range();
        assertTrue(learned > 0);

        ComputationGraph loaded = ModelFiles.fromBytes(ModelFiles.toBytes(trainable), "test");
        assertEquals(learned, FakeQuantization.quantizers(loaded).get("stage1.block1.relu/quant").range(), 0);
        assertEquals(trainable.outputSingle(false, batch.getFeatures()), loaded.outputSingle(false, batch.getFeatures()));
    }

    static INDArray images(int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, n, 1, 28, 28).subi(0.3).muli(2.5);
    }

    private static void assertArrayClose(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5, "element " + i);
        }
    }
}
