package org.sparkslim.compression.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * An edit of a copy of a network's configuration (vertices added, removed, rewired) and the new
 * network built from it, the way batch norm folding, fake quantization and block removal change a graph.
 * The maps are the edit's working copies; {@link #configuration} or {@link #build} applies them.
 */
public final class GraphEdit {
    public final ComputationGraphConfiguration conf;
    public final Map<String, GraphVertex> vertices;
    public final Map<String, List<String>> inputs;

    public GraphEdit(ComputationGraph net) {
        this(net.getConfiguration());
    }

    public GraphEdit(ComputationGraphConfiguration original) {
        this.conf = original.clone();
        this.vertices = new LinkedHashMap<>(conf.getVertices());
        this.inputs = new LinkedHashMap<>(conf.getVertexInputs());
    }

    /**
     * Removes each key vertex; whatever read it (network outputs included) reads its value instead,
     * or that value's replacement when it is removed too (consecutive blocks).
     */
    public void bypass(Map<String, String> removedToReplacement) {
        removedToReplacement.keySet().forEach(v -> {
            vertices.remove(v);
            inputs.remove(v);
        });
        UnaryOperator<String> replace = v -> {
            String r = v;
            while (removedToReplacement.containsKey(r)) {
                r = removedToReplacement.get(r);
            }
            return r;
        };
        inputs.replaceAll((v, in) -> in.stream().map(replace).toList());
        conf.setNetworkOutputs(new ArrayList<>(conf.getNetworkOutputs().stream().map(replace).toList()));
    }

    /**
     * Adds a layer reading {@code input}, with the network's per-layer settings (data type, updater,
     * seed) taken from one of its layers; {@code preProcessor} may be null.
     */
    public void addLayer(String name, Layer layer, InputPreProcessor preProcessor, String input) {
        NeuralNetConfiguration layerConf = vertices.values().stream()
                .filter(LayerVertex.class::isInstance).map(v -> ((LayerVertex) v).getLayerConf())
                .findFirst().orElseThrow(() -> new IllegalArgumentException("the network has no layers"))
                .clone();
        layer.setLayerName(name);
        layerConf.setLayer(layer);
        vertices.put(name, new LayerVertex(layerConf, preProcessor));
        inputs.put(name, List.of(input));
    }

    /** Puts {@code inserted}, reading {@code vertex}, between it and everything that read it (outputs too). */
    public void insertAfter(String vertex, String name, GraphVertex inserted) {
        if (!vertices.containsKey(vertex)) {
            throw new IllegalArgumentException("no vertex '" + vertex + "' in the network");
        }
        inputs.replaceAll((v, in) -> in.stream().map(i -> i.equals(vertex) ? name : i).toList());
        conf.setNetworkOutputs(new ArrayList<>(conf.getNetworkOutputs().stream()
                .map(o -> o.equals(vertex) ? name : o).toList()));
        vertices.put(name, inserted);
        inputs.put(name, List.of(vertex));
    }

    /** The edited configuration, not built (its topological order is recomputed when it is). */
    public ComputationGraphConfiguration configuration() {
        conf.setVertices(vertices);
        conf.setVertexInputs(inputs);
        conf.setTopologicalOrder(null);
        conf.setTopologicalOrderStr(null);
        return conf;
    }

    /** The edited network, initialized; parameters are the caller's to set (see {@link #copyParams}). */
    public ComputationGraph build() {
        ComputationGraph result = new ComputationGraph(configuration());
        result.init();
        return result;
    }

    /** Copies the parameters of every layer of {@code to} that {@code from} has under the same name. */
    public static void copyParams(ComputationGraph from, ComputationGraph to) {
        for (org.deeplearning4j.nn.api.Layer layer : to.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            if (from.getConfiguration().getVertices().containsKey(name)) {
                from.getLayer(name).paramTable().forEach((k, p) -> layer.setParam(k, p.dup()));
            }
        }
    }
}
