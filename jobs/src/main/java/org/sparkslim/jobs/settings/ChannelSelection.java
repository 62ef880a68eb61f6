package org.sparkslim.jobs.settings;

import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.Criterion;
import org.sparkslim.compression.prune.Importance;
import org.sparkslim.compression.prune.PruningScope;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * How the {@code prune} section chooses channels, shared by every stage that prunes or measures
 * pruning: the criterion that ranks them, how a group's members combine, the scope, and what to do
 * with vertices the pruner does not know.
 */
public record ChannelSelection(Criterion criterion, Importance.Combine combine, PruningScope scope,
                               ChannelGraph.Unsupported unsupported) {
    public static ChannelSelection read(SettingsReader r) {
        return new ChannelSelection(r.parsed("prune.criterion", Criterion::parse),
                r.parsed("prune.combine", Importance.Combine::parse), scope(r), unsupported(r));
    }

    /** {@code prune.unsupported-vertices}, which every reader of a channel graph needs. */
    public static ChannelGraph.Unsupported unsupported(SettingsReader r) {
        return ChannelGraph.Unsupported.valueOf(r.choice("prune.unsupported-vertices", java.util.List.of("error", "skip"))
                .toUpperCase());
    }

    private static PruningScope scope(SettingsReader r) {
        var match = r.strings("prune.scope.match");
        var exclude = r.strings("prune.scope.exclude");
        int minChannels = r.integer("prune.scope.min-channels", Range.atLeast(1));
        int roundTo = r.integer("prune.scope.round-to", Range.atLeast(1));
        boolean blocks = r.flag("prune.scope.remove-blocks");
        return r.check("prune.scope", () -> new PruningScope(match, exclude, minChannels, roundTo, blocks));
    }
}
