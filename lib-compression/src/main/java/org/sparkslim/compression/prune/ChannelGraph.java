package org.sparkslim.compression.prune;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.model.LayerKind;

/**
 * The channel groups of a network: which channels must be removed together so the network stays
 * consistent. Built by following every vertex's channel mapping in topological order:
 * <ul>
 *   <li>a convolution or dense layer <em>consumes</em> its input channels and <em>produces</em> a new group;</li>
 *   <li>batch norm and depthwise convolutions map channels one to one ({@link Role#CHANNELWISE});</li>
 *   <li>activations, pooling, dropout and padding pass channels through untouched;</li>
 *   <li>an element-wise addition joins the groups of all its inputs into one;</li>
 *   <li>a concatenation places its inputs' groups side by side (consumers see them at offsets);</li>
 *   <li>a dense layer after flattening sees each channel as {@code height x width} inputs.</li>
 * </ul>
 * The network's output layer produces no group, so its outputs are never pruned. The graph also
 * lists the network's {@link ResidualBlock}s, which depth pruning removes whole.
 */
public final class ChannelGraph implements Serializable {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelGraph.class);

    /** What to do with a vertex whose channel mapping is unknown. */
    public enum Unsupported {
        /** Refuse the network, naming the vertex. */
        ERROR,
        /** Leave every group that reaches the vertex unpruned, with a warning. */
        SKIP
    }

    /** A run of channels in a vertex's output: all channels of one group (or of an unprunable source). */
    public record Span(String group, int size) implements Serializable {
    }

    private final Map<String, ChannelGroup> groups;
    private final Map<String, List<Span>> outputs;
    private final List<ResidualBlock> blocks;

    private ChannelGraph(Builder built, List<ResidualBlock> blocks) {
        this.groups = built.groups();
        this.outputs = built.outputSpans();
        this.blocks = List.copyOf(blocks);
    }

    public static ChannelGraph of(ComputationGraph net, Unsupported policy) {
        return new ChannelGraph(new Builder(net.getConfiguration(), policy).run(),
                ResidualBlock.find(net.getConfiguration()));
    }

    public static ChannelGraph of(ComputationGraph net) {
        return of(net, Unsupported.ERROR);
    }

    /** Every group with at least one producer, in the order of their first producer. */
    public List<ChannelGroup> groups() {
        return new ArrayList<>(groups.values());
    }

    public List<ChannelGroup> prunableGroups() {
        return groups.values().stream().filter(ChannelGroup::prunable).toList();
    }

    public ChannelGroup group(String name) {
        ChannelGroup g = groups.get(name);
        if (g == null) {
            throw new IllegalArgumentException("no channel group '" + name + "'; groups are " + groups.keySet());
        }
        return g;
    }

    public boolean hasGroup(String name) {
        return groups.containsKey(name);
    }

    /** The residual blocks that can be removed whole, in network order. */
    public List<ResidualBlock> residualBlocks() {
        return blocks;
    }

    public ResidualBlock residualBlock(String name) {
        return blocks.stream().filter(b -> b.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("no removable residual block '" + name + "'; blocks are "
                        + blocks.stream().map(ResidualBlock::name).toList()));
    }

    /**
     * The channels of a vertex's output, as the groups they belong to, side by side (one span, or one per
     * input of a concatenation): which of the original channels a pruned network still carries there.
     */
    public List<Span> outputSpans(String vertex) {
        List<Span> spans = outputs.get(vertex);
        if (spans == null) {
            throw new IllegalArgumentException("no vertex '" + vertex + "' in the network");
        }
        return spans;
    }

    /** The branch vertices of the named blocks: what removing them deletes. */
    public Set<String> branchVertices(List<String> blockNames) {
        Set<String> vertices = new HashSet<>();
        blockNames.forEach(name -> vertices.addAll(residualBlock(name).branch()));
        return vertices;
    }

    /** A group under construction; additions merge groups with union-find. */
    private static final class Node {
        final String name;
        final int size;
        final int order;
        final List<GroupMember> members = new ArrayList<>();
        String pinnedBy;
        Node parent = this;

        Node(String name, int size, int order) {
            this.name = name;
            this.size = size;
            this.order = order;
        }

        Node root() {
            Node n = this;
            while (n.parent != n) {
                n.parent = n.parent.parent;
                n = n.parent;
            }
            return n;
        }
    }

    private static final class Builder {
        private final ComputationGraphConfiguration conf;
        private final Unsupported policy;
        private final List<Node> nodes = new ArrayList<>();
        /** The channel space of each vertex's output: groups side by side. */
        private final Map<String, List<Node>> spaces = new HashMap<>();

        Builder(ComputationGraphConfiguration conf, Unsupported policy) {
            this.conf = conf;
            this.policy = policy;
        }

        Builder run() {
            for (String input : conf.getNetworkInputs()) {
                spaces.put(input, List.of(pinned("input " + input, -1, "it is the network input")));
            }
            for (String v : conf.getTopologicalOrderStr()) {
                if (conf.getNetworkInputs().contains(v)) {
                    continue;
                }
                spaces.put(v, visit(v, conf.getVertices().get(v), inputSpaces(v)));
            }
            for (String output : conf.getNetworkOutputs()) {
                for (Node n : spaces.get(output)) {
                    pin(n, "it is the network output");
                }
            }
            return this;
        }

        Map<String, List<Span>> outputSpans() {
            Map<String, List<Span>> result = new HashMap<>();
            spaces.forEach((v, space) -> result.put(v,
                    space.stream().map(n -> new Span(n.root().name, n.root().size)).toList()));
            return result;
        }

        Map<String, ChannelGroup> groups() {
            Map<String, ChannelGroup> groups = new LinkedHashMap<>();
            nodes.stream().filter(n -> n.root() == n)
                    .filter(n -> n.members.stream().anyMatch(m -> m.role() == Role.PRODUCER))
                    .forEach(n -> groups.put(n.name,
                            new ChannelGroup(n.name, n.size, n.members, n.pinnedBy == null, n.pinnedBy)));
            return groups;
        }

        private List<List<Node>> inputSpaces(String v) {
            List<List<Node>> in = new ArrayList<>();
            for (String input : conf.getVertexInputs().get(v)) {
                in.add(spaces.get(input));
            }
            return in;
        }

        private List<Node> visit(String v, GraphVertex vertex, List<List<Node>> in) {
            Layer layer = LayerKind.layerOf(vertex);
            InputPreProcessor pre = vertex instanceof LayerVertex lv ? lv.getPreProcessor() : null;
            List<Node> first = in.isEmpty() ? List.of() : in.get(0);
            return switch (LayerKind.of(vertex)) {
                case DEPTHWISE_CONVOLUTION -> {
                    DepthwiseConvolution2D dw = (DepthwiseConvolution2D) layer;
                    yield dw.getDepthMultiplier() != 1 ? unsupported(v, "DepthwiseConvolution2D", "has depth multiplier "
                            + dw.getDepthMultiplier() + " (only 1 is supported)", List.of(first))
                            : channelwise(v, layer, first);
                }
                case BATCH_NORM -> channelwise(v, layer, first);
                case CONVOLUTION -> {
                    consume(v, layer, first, 1);
                    yield List.of(produce(v, layer, (int) ((ConvolutionLayer) layer).getNOut()));
                }
                case OUTPUT -> {
                    consume(v, layer, first, spread(pre));
                    yield List.of(pinned("output " + v, (int) ((BaseOutputLayer) layer).getNOut(),
                            "it is the network's output layer"));
                }
                case DENSE -> {
                    consume(v, layer, first, spread(pre));
                    yield List.of(produce(v, layer, (int) ((DenseLayer) layer).getNOut()));
                }
                case ACTIVATION, MAX_POOL, OTHER_POOL, GLOBAL_AVG_POOL, OTHER_GLOBAL_POOL, DROPOUT, ZERO_PADDING -> first;
                case ADD, OTHER_ELEMENTWISE -> join(v, vertex, in);
                case CONCAT -> {
                    List<Node> concatenated = new ArrayList<>();
                    in.forEach(concatenated::addAll);
                    yield concatenated;
                }
                case OTHER_CONVOLUTION -> unsupported(v, layer.getClass().getSimpleName(),
                        "is a convolution the pruner cannot slice", List.of(first));
                case OTHER_LAYER -> unsupported(v, layer.getClass().getSimpleName(), "is not a layer type the pruner knows",
                        List.of(first));
                case OTHER_VERTEX -> unsupported(v, vertex.getClass().getSimpleName(),
                        "is not a vertex type the pruner knows", in);
            };
        }

        private static int spread(InputPreProcessor pre) {
            if (pre instanceof CnnToFeedForwardPreProcessor flatten) {
                return (int) (flatten.getInputHeight() * flatten.getInputWidth());
            }
            return 1;
        }

        private Node produce(String v, Layer layer, int size) {
            Node n = new Node(v, size, nodes.size());
            nodes.add(n);
            n.members.add(GroupMember.of(v, layer, Role.PRODUCER));
            return n;
        }

        private Node pinned(String name, int size, String why) {
            Node n = new Node(name, size, nodes.size());
            nodes.add(n);
            n.pinnedBy = why;
            return n;
        }

        private List<Node> channelwise(String v, Layer layer, List<Node> in) {
            for (Node n : in) {
                n.root().members.add(GroupMember.of(v, layer, Role.CHANNELWISE));
            }
            if (in.size() > 1) {
                // a channel-wise layer after a concatenation: its parameters would need offsets too
                in.forEach(n -> pin(n, "channel-wise layer '" + v + "' follows a concatenation"));
            }
            return in;
        }

        private void consume(String v, Layer layer, List<Node> in, int spread) {
            int offset = 0;
            for (Node n : in) {
                Node root = n.root();
                root.members.add(new GroupMember(v, layer.getClass().getSimpleName(), Role.CONSUMER, offset, spread));
                if (root.size < 0) {
                    pin(root, "its size is unknown");
                    return;
                }
                offset += root.size;
            }
        }

        /** An element-wise vertex: input i's k-th group is the same channels as every other input's k-th. */
        private List<Node> join(String v, GraphVertex vertex, List<List<Node>> in) {
            List<Node> first = in.get(0);
            for (List<Node> other : in.subList(1, in.size())) {
                if (other.size() != first.size()) {
                    return unsupported(v, vertex.getClass().getSimpleName(),
                            "joins inputs whose channels are grouped differently", in);
                }
                for (int k = 0; k < first.size(); k++) {
                    if (!union(first.get(k), other.get(k))) {
                        return unsupported(v, vertex.getClass().getSimpleName(),
                                "joins inputs of different widths", in);
                    }
                }
            }
            return first;
        }

        private boolean union(Node a, Node b) {
            Node ra = a.root();
            Node rb = b.root();
            if (ra == rb) {
                return true;
            }
            if (ra.size != rb.size) {
                return false;
            }
            Node keep = ra.order <= rb.order ? ra : rb;
            Node gone = keep == ra ? rb : ra;
            gone.parent = keep;
            keep.members.addAll(gone.members);
            if (gone.pinnedBy != null) {
                pin(keep, gone.pinnedBy);
            }
            return true;
        }

        private void pin(Node n, String why) {
            Node root = n.root();
            if (root.pinnedBy == null) {
                root.pinnedBy = why;
            }
        }

        private List<Node> unsupported(String v, String type, String why, List<List<Node>> in) {
            if (policy == Unsupported.ERROR) {
                throw new UnsupportedVertexException(v, type, why);
            }
            LOG.warn("vertex '{}' ({}) {}: the channels reaching it stay unpruned", v, type, why);
            for (List<Node> space : in) {
                space.forEach(n -> pin(n, "it reaches vertex '" + v + "' of type " + type));
            }
            return List.of(pinned("unsupported " + v, -1, "it comes from vertex '" + v + "' of type " + type));
        }
    }
}
