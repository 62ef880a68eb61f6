package org.sparkslim.compression.train;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Everything a training needs to continue after an epoch as if it had never stopped: the parameters
 * (batch norm statistics included), the updater's state (momentum), the iteration count that drives
 * the learning rate schedule, what layers learned besides parameters ({@link LearnedLayerState}), and
 * the history so far. The order and augmentation of the data follow from the seed and the epoch
 * number alone, so they need no state.
 */
public final class TrainingState {
    private static final int FORMAT = 1;

    private final int epoch;
    private final int iterationCount;
    private final List<EpochSummary> history;
    private final INDArray params;
    private final INDArray updaterState;
    private final Map<String, double[]> layerStates;

    private TrainingState(int epoch, int iterationCount, List<EpochSummary> history, INDArray params,
                          INDArray updaterState, Map<String, double[]> layerStates) {
        this.epoch = epoch;
        this.iterationCount = iterationCount;
        this.history = List.copyOf(history);
        this.params = params;
        this.updaterState = updaterState;
        this.layerStates = layerStates;
    }

    /** A copy of {@code net}'s state after {@code history.size()} epochs. */
    public static TrainingState of(ComputationGraph net, List<EpochSummary> history) {
        Map<String, double[]> layers = new LinkedHashMap<>();
        for (Layer layer : net.getLayers()) {
            if (layer instanceof LearnedLayerState learned) {
                layers.put(layer.conf().getLayer().getLayerName(), learned.learnedState());
            }
        }
        INDArray updater = net.getUpdater() == null ? null : net.getUpdater().getStateViewArray();
        return new TrainingState(history.size(), net.getConfiguration().getIterationCount(), history, net.params().dup(),
                updater == null ? null : updater.dup(), layers);
    }

    /** The number of complete epochs. */
    public int epoch() {
        return epoch;
    }

    public List<EpochSummary> history() {
        return history;
    }

    /** Puts this state into {@code net}, a network of the same structure prepared for training. */
    public void restoreInto(ComputationGraph net) {
        if (net.params().length() != params.length()) {
            throw new IllegalArgumentException("the saved training state has " + params.length()
                    + " parameters, the network " + net.params().length() + ": it belongs to another network");
        }
        net.setParams(params);
        INDArray updater = net.getUpdater().getStateViewArray();
        if ((updater == null) != (updaterState == null)
                || updater != null && updater.length() != updaterState.length()) {
            throw new IllegalArgumentException("the saved updater state does not fit the network's updater");
        }
        if (updater != null) {
            updater.assign(updaterState);
        }
        for (Layer layer : net.getLayers()) {
            double[] state = layerStates.get(layer.conf().getLayer().getLayerName());
            if (layer instanceof LearnedLayerState learned && state != null) {
                learned.restoreLearnedState(state);
            }
        }
        net.getConfiguration().setIterationCount(iterationCount);
        net.getConfiguration().setEpochCount(epoch);
    }

    public void write(OutputStream stream) throws IOException {
        DataOutputStream out = new DataOutputStream(stream);
        out.writeInt(FORMAT);
        out.writeInt(epoch);
        out.writeInt(iterationCount);
        out.writeInt(history.size());
        for (EpochSummary e : history) {
            out.writeInt(e.epoch());
            for (double v : new double[] {e.trainLoss(), e.learningRate(), e.imagesPerSecond(), e.seconds(),
                    e.validationTop1(), e.validationLoss()}) {
                out.writeDouble(v);
            }
        }
        Nd4j.write(params, out);
        out.writeBoolean(updaterState != null);
        if (updaterState != null) {
            Nd4j.write(updaterState, out);
        }
        out.writeInt(layerStates.size());
        for (Map.Entry<String, double[]> layer : layerStates.entrySet()) {
            out.writeUTF(layer.getKey());
            out.writeInt(layer.getValue().length);
            for (double v : layer.getValue()) {
                out.writeDouble(v);
            }
        }
        out.flush();
    }

    public static TrainingState read(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        int format = in.readInt();
        if (format != FORMAT) {
            throw new IOException("training state of format " + format + ", expected " + FORMAT);
        }
        int epoch = in.readInt();
        int iterationCount = in.readInt();
        int epochs = in.readInt();
        List<EpochSummary> history = new ArrayList<>(epochs);
        for (int i = 0; i < epochs; i++) {
            history.add(new EpochSummary(in.readInt(), in.readDouble(), in.readDouble(), in.readDouble(),
                    in.readDouble(), in.readDouble(), in.readDouble()));
        }
        INDArray params = Nd4j.read(in);
        INDArray updater = in.readBoolean() ? Nd4j.read(in) : null;
        int layers = in.readInt();
        Map<String, double[]> layerStates = new LinkedHashMap<>();
        for (int i = 0; i < layers; i++) {
            String name = in.readUTF();
            double[] state = new double[in.readInt()];
            for (int j = 0; j < state.length; j++) {
                state[j] = in.readDouble();
            }
            layerStates.put(name, state);
        }
        return new TrainingState(epoch, iterationCount, history, params, updater, layerStates);
    }
}
