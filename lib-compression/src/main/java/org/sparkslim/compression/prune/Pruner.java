package org.sparkslim.compression.prune;

import java.util.HashMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.sparkslim.compression.model.GraphEdit;

/**
 * Applies a {@link PruningPlan}: builds a new, narrower {@link ComputationGraph} of the same layout
 * (less the removed residual blocks, whose additions are bypassed) and copies the kept slices of
 * every parameter (batch norm statistics included) into it. The original network is not modified.
 */
public final class Pruner {
    private Pruner() {
    }

    /**
     * The kept input and output positions of every layer the plan narrows, and each vertex removed
     * with its block mapped to the vertex its readers read instead.
     */
    private record Narrowing(Map<String, int[]> in, Map<String, int[]> out, Map<String, String> removed) {
        boolean touches(String vertex) {
            return in.containsKey(vertex) || out.containsKey(vertex);
        }
    }

    public static ComputationGraph apply(ComputationGraph net, PruningPlan plan) {
        Narrowing narrowing = narrowing(net, plan);
        ComputationGraph pruned = new ComputationGraph(narrowedConfiguration(net, narrowing));
        pruned.init();
        for (org.deeplearning4j.nn.graph.vertex.GraphVertex vertex : net.getVertices()) {
            if (!vertex.hasLayer() || vertex.getLayer().numParams() == 0
                    || narrowing.removed().containsKey(vertex.getVertexName())) {
                continue;
            }
            String name = vertex.getVertexName();
            org.deeplearning4j.nn.api.Layer target = pruned.getLayer(name);
            Map<String, INDArray> params = vertex.getLayer().paramTable();
            if (!narrowing.touches(name)) {
                params.forEach((k, p) -> target.setParam(k, p.dup()));
                continue;
            }
            Layer layer = vertex.getLayer().conf().getLayer();
            LayerSurgery surgery = LayerSurgery.forLayer(name, layer);
            int[] keptIn = narrowing.in().getOrDefault(name, all(nIn(layer)));
            int[] keptOut = narrowing.out().getOrDefault(name, all(nOut(layer)));
            Map<String, INDArray> sliced = new HashMap<>();
            params.forEach((k, p) -> sliced.put(k, surgery.slice(k, p, keptIn, keptOut)));
            LayerSurgery.checkShapes(name, target.paramTable(), sliced);
            sliced.forEach((k, p) -> target.setParam(k, p.reshape(target.getParam(k).shape())));
        }
        return pruned;
    }

    /** The configuration the pruned network would have, without building it (for cost estimates). */
    public static ComputationGraphConfiguration prunedConfiguration(ComputationGraph net, PruningPlan plan) {
        return narrowedConfiguration(net, narrowing(net, plan));
    }

    private static ComputationGraphConfiguration narrowedConfiguration(ComputationGraph net, Narrowing narrowing) {
        ComputationGraphConfiguration conf = net.getConfiguration().clone();
        for (Map.Entry<String, org.deeplearning4j.nn.conf.graph.GraphVertex> e : conf.getVertices().entrySet()) {
            String name = e.getKey();
            if (!narrowing.touches(name)) {
                continue;
            }
            LayerVertex vertex = (LayerVertex) e.getValue();
            Layer layer = vertex.getLayerConf().getLayer();
            int[] keptIn = narrowing.in().getOrDefault(name, all(nIn(layer)));
            int[] keptOut = narrowing.out().getOrDefault(name, all(nOut(layer)));
            LayerSurgery.forLayer(name, layer).resize(layer, keptIn, keptOut);
            if (vertex.getPreProcessor() instanceof CnnToFeedForwardPreProcessor flatten) {
                flatten.setNumChannels(keptIn.length / (flatten.getInputHeight() * flatten.getInputWidth()));
            }
        }
        if (narrowing.removed().isEmpty()) {
            return conf;
        }
        GraphEdit edit = new GraphEdit(conf);
        edit.bypass(narrowing.removed());
        return edit.configuration();
    }

    private static Narrowing narrowing(ComputationGraph net, PruningPlan plan) {
        ChannelGraph graph = ChannelGraph.of(net, ChannelGraph.Unsupported.SKIP);
        Map<String, boolean[]> inMasks = new HashMap<>();
        Map<String, boolean[]> outMasks = new HashMap<>();
        for (PruningPlan.GroupPlan gp : plan.groups()) {
            if (!graph.hasGroup(gp.group())) {
                throw new IllegalArgumentException("the plan prunes group '" + gp.group()
                        + "', which this network does not have; was the plan made for another model?");
            }
            ChannelGroup group = graph.group(gp.group());
            if (group.size() != gp.size()) {
                throw new IllegalArgumentException("the plan expects group '" + gp.group() + "' to have " + gp.size()
                        + " channels, the network has " + group.size() + "; was the plan made for another model?");
            }
            if (!group.prunable()) {
                throw new IllegalArgumentException("group '" + gp.group() + "' cannot be pruned: " + group.pinnedBy());
            }
            boolean[] keep = new boolean[gp.size()];
            for (int k : gp.kept()) {
                keep[k] = true;
            }
            for (GroupMember m : group.members()) {
                Layer layer = layer(net, m.vertex());
                switch (m.role()) {
                    case PRODUCER -> drop(outMasks, m.vertex(), nOut(layer), keep, 0, 1);
                    case CHANNELWISE -> {
                        drop(inMasks, m.vertex(), nIn(layer), keep, 0, 1);
                        drop(outMasks, m.vertex(), nOut(layer), keep, 0, 1);
                    }
                    case CONSUMER -> drop(inMasks, m.vertex(), nIn(layer), keep, m.offset(), m.spread());
                }
            }
        }
        Map<String, String> removed = new HashMap<>();
        for (String name : plan.removedBlocks()) {
            ResidualBlock block = graph.residualBlocks().stream().filter(b -> b.name().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("the plan removes residual block '" + name
                            + "', which this network does not have; was the plan made for another model?"));
            removed.put(block.name(), block.input());
            block.branch().forEach(v -> removed.put(v, block.input()));
        }
        return new Narrowing(kept(inMasks), kept(outMasks), removed);
    }

    private static void drop(Map<String, boolean[]> masks, String vertex, int width, boolean[] keep, int offset,
                             int spread) {
        boolean[] mask = masks.computeIfAbsent(vertex, v -> {
            boolean[] all = new boolean[width];
            java.util.Arrays.fill(all, true);
            return all;
        });
        for (int c = 0; c < keep.length; c++) {
            if (!keep[c]) {
                for (int s = 0; s < spread; s++) {
                    mask[(offset + c) * spread + s] = false;
                }
            }
        }
    }

    private static Map<String, int[]> kept(Map<String, boolean[]> masks) {
        Map<String, int[]> kept = new HashMap<>();
        masks.forEach((v, mask) -> {
            int n = 0;
            for (boolean b : mask) {
                n += b ? 1 : 0;
            }
            int[] idx = new int[n];
            for (int i = 0, j = 0; i < mask.length; i++) {
                if (mask[i]) {
                    idx[j++] = i;
                }
            }
            kept.put(v, idx);
        });
        return kept;
    }

    private static Layer layer(ComputationGraph net, String vertex) {
        return net.getLayer(vertex).conf().getLayer();
    }

    private static int nIn(Layer layer) {
        return (int) ((FeedForwardLayer) layer).getNIn();
    }

    private static int nOut(Layer layer) {
        return (int) ((FeedForwardLayer) layer).getNOut();
    }

    private static int[] all(int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return idx;
    }
}
