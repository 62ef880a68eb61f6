package org.sparkslim.compression.prune;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Scores every channel of every prunable group. A group with several producers (a residual stage)
 * or several batch norms gets one score per channel by combining its members' scores, each first
 * divided by its own mean so that no layer dominates by scale alone.
 */
public final class Importance {
    /** How members' scores are combined into the group's. */
    public enum Combine {
        SUM, MEAN, MAX;

        public static Combine parse(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown combination '" + name + "'; use sum, mean or max", e);
            }
        }
    }

    private Importance() {
    }

    public static Map<String, double[]> score(ComputationGraph net, ChannelGraph graph, Criterion criterion,
                                              Combine combine) {
        Map<String, double[]> scores = new LinkedHashMap<>();
        for (ChannelGroup group : graph.prunableGroups()) {
            scores.put(group.name(), score(net, group, criterion, combine));
        }
        return scores;
    }

    public static double[] score(ComputationGraph net, ChannelGroup group, Criterion criterion, Combine combine) {
        List<double[]> perMember = new ArrayList<>();
        if (criterion == Criterion.BN_SCALE) {
            for (GroupMember m : group.members(Role.CHANNELWISE)) {
                if (m.layerType().equals("BatchNormalization")) {
                    perMember.add(toDouble(net.getLayer(m.vertex()).getParam("gamma")));
                }
            }
            if (perMember.isEmpty()) {
                throw new IllegalArgumentException("bn_scale cannot rank group '" + group.name()
                        + "': no batch norm follows it");
            }
            perMember.replaceAll(v -> {
                double[] a = new double[v.length];
                for (int i = 0; i < v.length; i++) {
                    a[i] = Math.abs(v[i]);
                }
                return a;
            });
        } else {
            for (GroupMember m : group.members(Role.PRODUCER)) {
                perMember.add(filterScores(filters(net, m.vertex()), criterion));
            }
        }
        return combine(perMember, combine);
    }

    /** One row per output channel: a convolution's filter, a dense layer's incoming weights. */
    static double[][] filters(ComputationGraph net, String vertex) {
        INDArray w = net.getLayer(vertex).getParam("W");
        org.deeplearning4j.nn.conf.layers.Layer layer = net.getLayer(vertex).conf().getLayer();
        if (layer instanceof DenseLayer || layer instanceof BaseOutputLayer) {
            w = w.transpose();
        }
        return w.castTo(DataType.DOUBLE).reshape('c', w.size(0), w.length() / w.size(0)).toDoubleMatrix();
    }

    static double[] filterScores(double[][] filters, Criterion criterion) {
        int n = filters.length;
        double[] s = new double[n];
        switch (criterion) {
            case L1_NORM -> {
                for (int i = 0; i < n; i++) {
                    for (double v : filters[i]) {
                        s[i] += Math.abs(v);
                    }
                }
            }
            case L2_NORM -> {
                for (int i = 0; i < n; i++) {
                    for (double v : filters[i]) {
                        s[i] += v * v;
                    }
                    s[i] = Math.sqrt(s[i]);
                }
            }
            case GEOMETRY_MEDIAN -> {
                for (int i = 0; i < n; i++) {
                    for (int j = i + 1; j < n; j++) {
                        double d = 0;
                        for (int k = 0; k < filters[i].length; k++) {
                            double diff = filters[i][k] - filters[j][k];
                            d += diff * diff;
                        }
                        d = Math.sqrt(d);
                        s[i] += d;
                        s[j] += d;
                    }
                }
            }
            default -> throw new IllegalArgumentException(criterion + " does not score filters");
        }
        return s;
    }

    private static double[] combine(List<double[]> members, Combine combine) {
        int n = members.get(0).length;
        double[] out = new double[n];
        for (double[] m : members) {
            double mean = 0;
            for (double v : m) {
                mean += v / n;
            }
            double scale = mean > 0 ? 1 / mean : 1;
            for (int i = 0; i < n; i++) {
                double v = m[i] * scale;
                out[i] = switch (combine) {
                    case SUM, MEAN -> out[i] + v;
                    case MAX -> Math.max(out[i], v);
                };
            }
        }
        if (combine == Combine.MEAN) {
            for (int i = 0; i < n; i++) {
                out[i] /= members.size();
            }
        }
        return out;
    }

    private static double[] toDouble(INDArray a) {
        return a.castTo(DataType.DOUBLE).toDoubleVector();
    }
}
