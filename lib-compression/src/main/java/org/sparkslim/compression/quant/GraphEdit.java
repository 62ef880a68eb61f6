package org.sparkslim.compression.quant;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * An edit of a copy of a network's configuration (vertices added, removed, rewired) and the new
 * network built from it, the way folding, fake quantization and stripping all change a graph.
 */
final class GraphEdit {
    final ComputationGraphConfiguration conf;
    final Map<String, GraphVertex> vertices;
    final Map<String, List<String>> inputs;

    GraphEdit(ComputationGraph net) {
        this.conf = net.getConfiguration().clone();
        this.vertices = new LinkedHashMap<>(conf.getVertices());
        this.inputs = new LinkedHashMap<>(conf.getVertexInputs());
    }

    /** Removes each key vertex; whatever read it (network outputs included) reads its value instead. */
    void bypass(Map<String, String> removedToReplacement) {
        removedToReplacement.keySet().forEach(v -> {
            vertices.remove(v);
            inputs.remove(v);
        });
        inputs.replaceAll((v, in) -> in.stream().map(i -> removedToReplacement.getOrDefault(i, i)).toList());
        conf.setNetworkOutputs(new ArrayList<>(conf.getNetworkOutputs().stream()
                .map(o -> removedToReplacement.getOrDefault(o, o)).toList()));
    }

    /** The edited network, initialized; parameters are the caller's to set (see {@link #copyParams}). */
    ComputationGraph build() {
        conf.setVertices(vertices);
        conf.setVertexInputs(inputs);
        conf.setTopologicalOrder(null);
        conf.setTopologicalOrderStr(null);
        ComputationGraph result = new ComputationGraph(conf);
        result.init();
        return result;
    }

    /** Copies the parameters of every layer of {@code to} that {@code from} has under the same name. */
    static void copyParams(ComputationGraph from, ComputationGraph to) {
        for (org.deeplearning4j.nn.api.Layer layer : to.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            if (from.getConfiguration().getVertices().containsKey(name)) {
                from.getLayer(name).paramTable().forEach((k, p) -> layer.setParam(k, p.dup()));
            }
        }
    }
}
