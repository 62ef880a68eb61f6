package org.sparkslim.compression.runtime;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * The number of OpenMP threads native ND4J/oneDNN work uses, for the calling Java thread. OpenMP keeps
 * this count per calling thread, so a Spark task can run its forward passes on one core while the
 * driver's training keeps all of them.
 */
public final class NativeThreads {
    private NativeThreads() {
    }

    public static void setForCurrentThread(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        nativeOps().setOmpNumThreads(threads);
    }

    public static int forCurrentThread() {
        return nativeOps().ompGetMaxThreads();
    }

    /**
     * The native ops, after ND4J's backend has loaded: the holder reads its library's name from the
     * backend's properties, which are empty in a fresh JVM (a cluster's executor) until the backend loads.
     */
    private static NativeOps nativeOps() {
        Nd4j.getBackend();
        return NativeOpsHolder.getInstance().getDeviceNativeOps();
    }
}
