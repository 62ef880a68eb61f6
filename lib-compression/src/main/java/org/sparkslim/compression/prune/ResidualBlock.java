package org.sparkslim.compression.prune;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.sparkslim.compression.model.LayerKind;

/**
 * A residual block that can be removed whole: an addition of its input (the identity shortcut) and a
 * branch computed from that input alone. Without the branch the addition passes its input on, so
 * removing the block means bypassing the addition and deleting the branch; the network stays
 * consistent whatever widths the surrounding channel groups have.
 *
 * @param name         the addition's vertex name
 * @param input        the vertex both the shortcut and the branch read
 * @param branch       the branch's vertices from the first (reads {@code input}) to the last (feeds the addition)
 * @param convolutions the branch's convolutions (depthwise included), which scope patterns are matched against
 */
public record ResidualBlock(String name, String input, List<String> branch, List<String> convolutions)
        implements Serializable {
    public ResidualBlock {
        branch = List.copyOf(branch);
        convolutions = List.copyOf(convolutions);
    }

    /**
     * Every removable block of a network, in topological order: additions of two inputs where one
     * input is read directly (the shortcut) and the other is reached from it through a chain of
     * single-input layers that nothing else reads.
     */
    public static List<ResidualBlock> find(ComputationGraphConfiguration conf) {
        Map<String, Integer> readers = new HashMap<>();
        conf.getVertexInputs().values().forEach(in -> in.forEach(v -> readers.merge(v, 1, Integer::sum)));
        List<ResidualBlock> blocks = new ArrayList<>();
        for (String v : conf.getTopologicalOrderStr()) {
            GraphVertex vertex = conf.getVertices().get(v);
            List<String> in = conf.getVertexInputs().get(v);
            if (LayerKind.of(vertex) != LayerKind.ADD || in == null || in.size() != 2) {
                continue;
            }
            List<String> branch = branchBetween(conf, readers, in.get(0), in.get(1));
            String shortcut = in.get(0);
            if (branch == null) {
                branch = branchBetween(conf, readers, in.get(1), in.get(0));
                shortcut = in.get(1);
            }
            if (branch != null) {
                blocks.add(new ResidualBlock(v, shortcut, branch, branch.stream()
                        .filter(b -> LayerKind.of(conf.getVertices().get(b)).isConvolution()).toList()));
            }
        }
        return blocks;
    }

    /** The vertices after {@code source} up to {@code end}, in order, when they form a branch; null otherwise. */
    private static List<String> branchBetween(ComputationGraphConfiguration conf, Map<String, Integer> readers,
                                              String source, String end) {
        List<String> chain = new ArrayList<>();
        String v = end;
        while (!v.equals(source)) {
            List<String> in = conf.getVertexInputs().get(v);
            if (!(conf.getVertices().get(v) instanceof LayerVertex) || in == null || in.size() != 1
                    || readers.getOrDefault(v, 0) != 1 || conf.getNetworkOutputs().contains(v)) {
                return null;
            }
            chain.add(v);
            v = in.get(0);
        }
        if (chain.isEmpty()) {
            return null;
        }
        Collections.reverse(chain);
        return chain;
    }
}
