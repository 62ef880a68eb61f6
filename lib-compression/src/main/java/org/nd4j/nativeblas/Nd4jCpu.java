package org.nd4j.nativeblas;

/**
 * Compatibility shim that lets DL4J 1.0.0-M2.x find its oneDNN layer helpers.
 *
 * <p>{@code BaseMKLDNNHelper} asks, by reflection, {@code org.nd4j.nativeblas.Nd4jCpu$Environment}
 * whether oneDNN is in use. That class was renamed in ND4J and no longer exists, so without this
 * shim every oneDNN helper (convolution, batch norm, pooling) silently stays off and training runs
 * about five times slower. The answer is the real flag of the native backend.
 */
public final class Nd4jCpu {
    private Nd4jCpu() {
    }

    /** The object {@code BaseMKLDNNHelper} queries. */
    public static final class Environment {
        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        public boolean isUseMKLDNN() {
            return org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN();
        }
    }
}
