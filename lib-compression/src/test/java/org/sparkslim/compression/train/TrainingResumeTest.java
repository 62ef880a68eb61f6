package org.sparkslim.compression.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.sparkslim.compression.data.Augmentation;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.compression.model.ModelFamily;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.model.ModelZoo;
import org.sparkslim.compression.quant.FakeQuantization;
import org.sparkslim.compression.quant.QuantizationConfig;

/** A training stopped after an epoch and resumed from its saved state ends with the uninterrupted one's model. */
class TrainingResumeTest {
    private static final LabeledImages TRAIN = TrainingTest.bars(256, 1);
    private static final BatchAssembler ASSEMBLER = new BatchAssembler(TrainingTest.SHAPE, 4, new Normalization(0.15, 0.3));
    private static final TrainingRecipe RECIPE = new TrainingRecipe(3, 32, 0.05, 0.9, 5e-4, Augmentation.CROP_AND_FLIP, 7);

    /** Keeps each epoch's state as the bytes it would be written as; can stop the training after an epoch. */
    private static final class Saved implements EpochCheckpoints {
        final List<byte[]> states = new ArrayList<>();
        int stopAfter = Integer.MAX_VALUE;

        @Override
        public Optional<TrainingState> latest() throws IOException {
            return states.isEmpty() ? Optional.empty()
                    : Optional.of(TrainingState.read(new ByteArrayInputStream(states.get(states.size() - 1))));
        }

        @Override
        public void save(TrainingState state) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            state.write(bytes);
            states.add(bytes.toByteArray());
            if (state.epoch() == stopAfter) {
                throw new IllegalStateException("killed after epoch " + stopAfter);
            }
        }
    }

    private static ComputationGraph vgg(boolean fakeQuantized) {
        ModelFamily vgg = ModelZoo.family("vgg");
        ComputationGraph net = vgg.build(vgg.spec(vgg.baseWidths().scaled(0.25), TrainingTest.SHAPE, 4, RECIPE.seed()));
        return fakeQuantized ? FakeQuantization.insert(net, QuantizationConfig.DEFAULT) : net;
    }

    private static List<EpochSummary> train(ComputationGraph net, EpochCheckpoints checkpoints) throws IOException {
        return new Trainer(RECIPE, 4).fit(net, new InMemoryBatchSource(TRAIN, ASSEMBLER, RECIPE.batchSize(),
                RECIPE.augmentation(), true, RECIPE.seed()), null, checkpoints);
    }

    private static Map<String, Double> ranges(ComputationGraph net) {
        Map<String, Double> ranges = new TreeMap<>();
        FakeQuantization.quantizers(net).forEach((name, q) -> ranges.put(name, q.range()));
        return ranges;
    }

    private static void resumesToTheSameModel(boolean fakeQuantized) throws IOException {
        Trainer trainer = new Trainer(RECIPE, 4);
        ComputationGraph whole = trainer.prepare(vgg(fakeQuantized), TRAIN.size());
        List<EpochSummary> wholeHistory = train(whole, EpochCheckpoints.NONE);

        Saved saved = new Saved();
        saved.stopAfter = 2;
        assertThrows(IllegalStateException.class, () -> train(trainer.prepare(vgg(fakeQuantized), TRAIN.size()), saved));
        saved.stopAfter = Integer.MAX_VALUE;
        ComputationGraph resumed = trainer.prepare(vgg(fakeQuantized), TRAIN.size());
        List<EpochSummary> resumedHistory = train(resumed, saved);

        assertEquals(3, saved.states.size(), "epochs 1 and 2 before the kill, 3 after it");
        assertArrayEquals(whole.params().data().asFloat(), resumed.params().data().asFloat(), "same weights, bit for bit");
        assertArrayEquals(whole.getUpdater().getStateViewArray().data().asFloat(),
                resumed.getUpdater().getStateViewArray().data().asFloat(), "same momentum");
        assertEquals(whole.getConfiguration().getIterationCount(), resumed.getConfiguration().getIterationCount());
        assertEquals(ranges(whole), ranges(resumed), "same learned activation ranges");
        assertEquals(ModelFiles.sha256(ModelFiles.toBytes(whole)), ModelFiles.sha256(ModelFiles.toBytes(resumed)));
        assertEquals(wholeHistory.stream().map(EpochSummary::trainLoss).toList(),
                resumedHistory.stream().map(EpochSummary::trainLoss).toList(), "the history carries over");
    }

    @Test
    void aFloatTrainingResumesToTheSameModel() throws IOException {
        resumesToTheSameModel(false);
    }

    @Test
    void aQuantizationAwareTrainingResumesWithItsLearnedRanges() throws IOException {
        assertTrue(!FakeQuantization.quantizers(vgg(true)).isEmpty());
        resumesToTheSameModel(true);
    }

    @Test
    void aStateOfAnotherNetworkIsRefused() throws IOException {
        Saved saved = new Saved();
        saved.stopAfter = 1;
        Trainer trainer = new Trainer(RECIPE, 4);
        assertThrows(IllegalStateException.class, () -> train(trainer.prepare(vgg(false), TRAIN.size()), saved));
        ModelFamily vgg = ModelZoo.family("vgg");
        ComputationGraph wider = trainer.prepare(vgg.build(vgg.spec(vgg.baseWidths().scaled(0.5), TrainingTest.SHAPE, 4, 1)),
                TRAIN.size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train(wider, saved));
        assertTrue(e.getMessage().contains("another network"), e.getMessage());
    }
}
