package org.sparkslim.compression.prune;

import java.io.Serializable;
import java.util.List;

/**
 * A set of channels that must be pruned together: the output channels of one or more producers
 * (several when residual additions join them) and every vertex those channels reach.
 *
 * @param name        the first producer's vertex name, stable for a given network layout
 * @param size        number of channels
 * @param prunable    false when the group is pinned (network output, excluded layer, unsupported vertex)
 * @param pinnedBy    why it is pinned, or null
 */
public record ChannelGroup(String name, int size, List<GroupMember> members, boolean prunable, String pinnedBy)
        implements Serializable {
    public ChannelGroup {
        members = List.copyOf(members);
    }

    public List<GroupMember> members(Role role) {
        return members.stream().filter(m -> m.role() == role).toList();
    }

    public List<String> producers() {
        return members(Role.PRODUCER).stream().map(GroupMember::vertex).toList();
    }
}
