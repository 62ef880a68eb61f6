package org.sparkslim.jobs.pruning;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.LabeledImages;
import org.sparkslim.compression.model.ModelFiles;
import org.sparkslim.compression.prune.ChannelGroup;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.ResidualBlock;
import org.sparkslim.compression.prune.Restoration;
import org.sparkslim.compression.prune.SensitivityCurves;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.settings.SensitivitySettings;
import org.sparkslim.jobs.spark.BroadcastModel;
import org.sparkslim.jobs.spark.SensitivityAnalysis;
import org.sparkslim.jobs.spark.ValidationImages;
import org.sparkslim.jobs.tables.ImageTable;
import org.sparkslim.jobs.tables.SensitivityTable;

/**
 * Measures how one model's val top-1 responds to pruning each group alone at each ratio, and to
 * removing each removable residual block alone (on Spark, one task per point), reusing points
 * measured before for exactly the same pruning.
 */
public final class SensitivityMeasurement {
    private static final Logger LOG = LoggerFactory.getLogger(SensitivityMeasurement.class);
    /** The group name of the unpruned model's point. */
    public static final String BASELINE = SensitivityTable.BASELINE;

    private SensitivityMeasurement() {
    }

    /** One measured point; {@code planKey} identifies the exact channels removed. */
    public record Point(String group, int size, double ratio, int kept, String planKey, double top1, double loss, long macs,
                 boolean reused) {
        public Key key() {
            return new Key(group, planKey);
        }
    }

    public record Key(String group, String planKey) {
    }

    /**
     * The baseline, every (prunable group, ratio) point and every removable block (size 1, ratio 1,
     * kept 0), in that order.
     *
     * @param restoration what is done to each variant before it is scored
     */
    public static List<Point> measure(StageContext<?> ctx, byte[] model, String hash, PruningSetup setup, LabeledImages val,
                               Restoration restoration, BatchAssembler assembler, SensitivitySettings settings,
                               Map<Key, Point> reusable) {
        List<Point> planned = new ArrayList<>();
        Map<Key, PruningPlan> plans = new HashMap<>();
        PruningPlan baseline = PruningPlan.empty(setup.criterion().configName());
        planned.add(new Point(BASELINE, 0, 0.0, 0, planKey(baseline), 0, 0, 0, false));
        plans.put(planned.get(0).key(), baseline);
        for (ChannelGroup group : setup.builder().prunable()) {
            for (double ratio : settings.ratios()) {
                PruningPlan plan = setup.builder().plan(Map.of(group.name(), ratio));
                PruningPlan.GroupPlan gp = plan.group(group.name());
                Point p = new Point(group.name(), group.size(), ratio, gp == null ? group.size() : gp.kept().length,
                        planKey(plan), 0, 0, 0, false);
                planned.add(p);
                plans.put(p.key(), plan);
            }
        }
        for (ResidualBlock block : setup.builder().removableBlocks()) {
            PruningPlan plan = setup.builder().plan(Map.of(block.name(), 1.0));
            Point p = new Point(block.name(), 1, 1.0, 0, planKey(plan), 0, 0, 0, false);
            planned.add(p);
            plans.put(p.key(), plan);
        }
        List<SensitivityAnalysis.Task> tasks = new ArrayList<>();
        for (Point p : planned) {
            if (!reusable.containsKey(p.key())) {
                tasks.add(new SensitivityAnalysis.Task(p.group(), p.ratio(), plans.get(p.key())));
            }
        }
        ctx.describe(String.format("scoring %d pruned variants on %d val images (%d reused)", tasks.size(), val.size(),
                planned.size() - tasks.size()));
        LOG.info("{} (group or block, ratio) points: {} to measure on {} val images, {} reused", planned.size(),
                tasks.size(), val.size(), planned.size() - tasks.size());
        long start = System.nanoTime();
        Map<Key, SensitivityAnalysis.Result> fresh = new HashMap<>();
        BroadcastModel broadcast = BroadcastModel.of(ctx.spark(), model, hash);
        SensitivityAnalysis.Scoring scoring = new SensitivityAnalysis.Scoring(val, restoration, assembler,
                settings.batchSize(), settings.threadsPerTask(), settings.engine());
        for (SensitivityAnalysis.Result r : SensitivityAnalysis.run(ctx.spark(), broadcast, tasks, scoring)) {
            PruningPlan plan = r.group().equals(BASELINE) ? baseline : setup.builder().plan(Map.of(r.group(), r.ratio()));
            fresh.put(new Key(r.group(), planKey(plan)), r);
        }
        LOG.info(String.format("measured %d points in %.1f s", tasks.size(), (System.nanoTime() - start) / 1e9));

        List<Point> points = new ArrayList<>();
        for (Point p : planned) {
            SensitivityAnalysis.Result r = fresh.get(p.key());
            points.add(r == null ? reusable.get(p.key())
                    : new Point(p.group(), p.size(), p.ratio(), p.kept(), p.planKey(), r.top1(), r.loss(), r.macs(), false));
        }
        return points;
    }

    /** The first {@code maxImages} of the val split (0: all of it), in memory, to broadcast. */
    public static LabeledImages validationImages(StageContext<?> ctx, BatchAssembler assembler, int maxImages) {
        return ValidationImages.firstN(ctx.spark(), ctx.input("prepare-data") + "/" + ImageTable.file("val"),
                assembler.shape(), maxImages);
    }

    /** Each group's (ratio, relative top-1 drop) points. */
    public static SensitivityCurves curves(List<Point> points) {
        double base = points.stream().filter(p -> p.group().equals(BASELINE)).findFirst().orElseThrow().top1();
        SensitivityCurves curves = new SensitivityCurves();
        for (Point p : points) {
            if (!p.group().equals(BASELINE)) {
                curves.add(p.group(), 1 - p.kept() / (double) p.size(), (base - p.top1()) / base);
            }
        }
        return curves;
    }

    public static String planKey(PruningPlan plan) {
        StringBuilder text = new StringBuilder();
        plan.groups().forEach(g -> text.append(g.group()).append(java.util.Arrays.toString(g.kept())).append(';'));
        // plans without removed blocks keep the keys they had before blocks could be removed
        plan.removedBlocks().forEach(b -> text.append(b).append("[removed];"));
        return ModelFiles.sha256(text.toString().getBytes(StandardCharsets.UTF_8)).substring(0, 24);
    }
}
