package org.sparkslim.jobs.settings;

import java.util.List;
import org.sparkslim.compression.prune.Allocator;
import org.sparkslim.compression.prune.Allocators;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * How far to prune and how the widths are chosen: {@code prune.strategy} (and {@code prune.allocation}
 * for the sensitivity strategy) name an {@link Allocator}; {@code prune.target-macs-reduction} and
 * {@code prune.tolerance} say where to land, except for a replayed plan, which lands where it was made
 * ({@code plan}, or {@code search}: the plan the {@code prune-search} stage found).
 * A reduction outside the tolerance is warned about, not refused: channel counts are discrete.
 */
public record PruningTarget(Allocator allocator, double reduction, double tolerance, boolean searched) {
    public static PruningTarget read(SettingsReader r) {
        String strategy = r.choice("prune.strategy", List.of("uniform", "sensitivity", "plan", "search"));
        Allocator allocator = switch (strategy) {
            case "sensitivity" -> fromCurves(r);
            case "plan", "search" -> Allocators.PLAN;
            default -> Allocators.UNIFORM;
        };
        return allocator == Allocators.PLAN ? new PruningTarget(allocator, Double.NaN, Double.NaN, strategy.equals("search"))
                : withTarget(r, allocator);
    }

    /** For stages that always measure sensitivities first: {@code prune.allocation} alone. */
    public static PruningTarget readFromCurves(SettingsReader r) {
        return withTarget(r, fromCurves(r));
    }

    private static Allocator fromCurves(SettingsReader r) {
        return Allocators.named(r.choice("prune.allocation", Allocators.fromCurves()));
    }

    private static PruningTarget withTarget(SettingsReader r, Allocator allocator) {
        return new PruningTarget(allocator, r.number("prune.target-macs-reduction", Range.OPEN_FRACTION),
                r.number("prune.tolerance", Range.OPEN_FRACTION), false);
    }

    public boolean replays() {
        return allocator == Allocators.PLAN;
    }

    /** What the allocator is asked for (a replay adds its plan itself). */
    public Allocator.Request request() {
        return Allocator.Request.target(reduction, tolerance);
    }
}
