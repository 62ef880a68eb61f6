package org.sparkslim.compression.prune;

import java.io.Serializable;

/**
 * One place a channel group reaches. For a consumer, the group's channel {@code c} is the vertex's
 * input positions {@code [(offset + c) * spread, (offset + c + 1) * spread)}: {@code offset} places the
 * group inside a concatenation, {@code spread} is the spatial size when a feature map is flattened
 * into a dense layer (1 otherwise).
 */
public record GroupMember(String vertex, String layerType, Role role, int offset, int spread) implements Serializable {
    static GroupMember of(String vertex, Object layer, Role role) {
        return new GroupMember(vertex, layer.getClass().getSimpleName(), role, 0, 1);
    }
}
