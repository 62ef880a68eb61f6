package org.sparkslim.compression.prune;

/** How a vertex touches a channel group, and so which of its dimensions pruning slices. */
public enum Role {
    /** Creates the channels: a convolution's filters, a dense layer's units (output dimension). */
    PRODUCER,
    /** Carries them one to one: batch norm, depthwise convolution (both dimensions). */
    CHANNELWISE,
    /** Reads them: the next convolution's or dense layer's input dimension. */
    CONSUMER
}
