package org.sparkslim.compression.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.util.ComputationGraphUtil;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelZoo;

/** Gradients summed over parts of a batch step a network as one step on the whole batch would. */
class GradientSumTest {
    private static final LabeledImages IMAGES = TrainingTest.bars(96, 3);
    private static final BatchAssembler ASSEMBLER =
            new BatchAssembler(TrainingTest.SHAPE, 4, new Normalization(0.15, 0.3));
    private static final TrainingRecipe RECIPE = new TrainingRecipe(1, 32, 0.05, 0.9, 5e-4, Augmentation.NONE, 11);

    private static List<MultiDataSet> batches(int size) {
        List<MultiDataSet> out = new ArrayList<>();
        Iterator<DataSet> it = new InMemoryBatchSource(IMAGES, ASSEMBLER, size, Augmentation.NONE, false, 1).epoch(1);
        it.forEachRemaining(b -> out.add(ComputationGraphUtil.toMultiDataSet(b)));
        return out;
    }

    /** A network without batch normalization, whose gradient on a batch is the sum of its parts'. */
    private static ComputationGraph convolutional() {
        ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(5).graphBuilder()
                .addInputs("in")
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build(), "in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4)
                        .activation(Activation.SOFTMAX).build(), "conv")
                .setOutputs("out")
                .setInputTypes(InputType.convolutional(12, 12, 1))
                .build());
        net.init();
        return new Trainer(RECIPE, 4).prepare(net, IMAGES.size());
    }

    private static ComputationGraph vgg() {
        ModelFamily vgg = ModelZoo.family("vgg");
        ComputationGraph net = vgg.build(vgg.spec(vgg.baseWidths().scaled(0.25), TrainingTest.SHAPE, 4, RECIPE.seed()));
        return new Trainer(RECIPE, 4).prepare(net, IMAGES.size());
    }

    private static GradientSum inParts(ComputationGraph net, List<MultiDataSet> parts) {
        GradientSum sum = GradientSum.of(net, parts.get(0));
        for (MultiDataSet part : parts.subList(1, parts.size())) {
            sum.merge(GradientSum.of(net, part));
        }
        return sum;
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.toFloatVector(), actual.toFloatVector(), 2e-6f, what);
    }

    @Test
    void stepsOnThreePartsOfEachBatchAreTheStepsOnTheWholeBatches() {
        ComputationGraph whole = convolutional();
        ComputationGraph parted = whole.clone();
        List<MultiDataSet> big = batches(24);
        List<MultiDataSet> small = batches(8);
        double lastLoss = 0;
        for (int step = 0; step < 3; step++) {
            whole.fit(big.get(step));
            GradientSum sum = inParts(parted, small.subList(3 * step, 3 * step + 3));
            sum.applyTo(parted);
            assertEquals(24, sum.images());
            lastLoss = sum.meanLoss();
        }
        // momentum, weight decay and the schedule's position carry from step to step as in fit
        assertClose(whole.params(), parted.params(), "parameters after three steps");
        assertClose(whole.getUpdater().getStateViewArray(), parted.getUpdater().getStateViewArray(), "momentum");
        assertEquals(whole.getConfiguration().getIterationCount(), parted.getConfiguration().getIterationCount());
        assertTrue(Double.isFinite(lastLoss) && lastLoss > 0, "the parts' mean loss: " + lastLoss);
    }

    @Test
    void runningStatisticsMoveByTheMeanOfThePartsBatchStatistics() {
        ComputationGraph whole = vgg();
        ComputationGraph one = whole.clone();
        ComputationGraph halves = whole.clone();
        MultiDataSet batch = batches(32).get(0);
        whole.fit(batch);
        GradientSum.of(one, batch).applyTo(one);
        assertClose(whole.params(), one.params(), "one part, the whole batch, with batch normalization");

        GradientSum sum = inParts(halves, batches(16).subList(0, 2));
        sum.applyTo(halves);
        // the first batch normalization sees the same inputs either way (later ones do not: the halves are
        // normalized by their own statistics), and two halves' means average to the whole batch's mean
        assertTrue(!GradientSum.runningStatistics(halves).isEmpty());
        Layer first = Arrays.stream(halves.getLayers()).filter(l -> l instanceof BatchNormalization).findFirst()
                .orElseThrow();
        String name = first.conf().getLayer().getLayerName();
        assertClose(whole.getLayer(name).getParam("mean"), first.getParam("mean"), "running mean of " + name);
        assertTrue(!one.getLayer(name).getParam("mean").equals(vgg().getLayer(name).getParam("mean")),
                "a step moves the running mean");
    }

    @Test
    void refusesTheGradientOfAnotherNetwork() {
        GradientSum sum = GradientSum.of(convolutional(), batches(8).get(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sum.applyTo(vgg()));
        assertTrue(e.getMessage().contains("cannot step a network"), e.getMessage());
    }
}
