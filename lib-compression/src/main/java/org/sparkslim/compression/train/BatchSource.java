package org.sparkslim.compression.train;

import java.util.Iterator;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Where training and evaluation get their batches. Each call to {@link #epoch(int)} streams the data
 * once, in an order (and with augmentation) fixed by the epoch number and the source's seed, so
 * nothing requires the whole dataset in memory.
 */
public interface BatchSource {
    /** Number of examples in one pass. */
    long size();

    Iterator<DataSet> epoch(int epoch);
}
