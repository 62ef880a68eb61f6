package org.sparkslim.compression.runtime;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Switches DL4J's oneDNN layer helpers on and tells whether a network really uses them.
 *
 * <p>DL4J reads {@code org.eclipse.deeplearning4j.helpers.disable} as true when it is unset. The
 * launchers pass {@code -Dorg.eclipse.deeplearning4j.helpers.disable=false}; {@link #enable()} does
 * the same from code, so a JVM started without the flag (an IDE, a foreign spark-submit) is not
 * silently five times slower. Call it before the first network is built.
 */
public final class OneDnn {
    public static final String HELPERS_DISABLE_PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";

    private OneDnn() {
    }

    public static void enable() {
        System.setProperty(HELPERS_DISABLE_PROPERTY, "false");
        Nd4j.getEnvironment().allowHelpers(true);
    }

    /** True when the native backend was built with oneDNN and has it switched on. */
    public static boolean available() {
        return org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN();
    }

    /**
     * True when every standard convolution layer of {@code net} runs through {@link MKLDNNConvHelper}.
     * Helpers are attached lazily, so run one forward pass before asking.
     */
    public static boolean convolutionsUseOneDnn(ComputationGraph net) {
        boolean sawConvolution = false;
        for (Layer layer : net.getLayers()) {
            if (layer instanceof ConvolutionLayer conv && layer.getClass() == ConvolutionLayer.class) {
                sawConvolution = true;
                if (!(conv.getHelper() instanceof MKLDNNConvHelper)) {
                    return false;
                }
            }
        }
        return sawConvolution;
    }
}
