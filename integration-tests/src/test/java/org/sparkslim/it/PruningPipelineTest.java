package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.sparkslim.compression.prune.ChannelGraph;
import org.sparkslim.compression.prune.Pruner;
import org.sparkslim.compression.prune.PruningPlan;
import org.sparkslim.compression.prune.Role;
import org.sparkslim.compression.train.BatchNormScaleShrinkage;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.pipeline.StageOutcome;

/**
 * Train, sensitivity analysis on Spark local[2], sensitivity-based pruning to -50% MACs, fine-tuning
 * (on the labels, and with the dense model as teacher) and evaluation, on a slice of the real
 * Fashion-MNIST.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PruningPipelineTest {
    @RegisterExtension
    static final TestPipeline it = new TestPipeline("sparkslim-prune-it",
            "pipeline.stages=[prepare-data, train, sensitivity, prune, finetune, evaluate, report]",
            "data.limit.train=2000", "data.limit.val=300", "data.limit.test=500", "data.partitions=2",
            "model.family=vgg", "model.width-multiplier=0.5", "train.epochs=1",
            "sensitivity.ratios=[0.25, 0.5, 0.75]",
            "prune.strategy=sensitivity", "prune.target-macs-reduction=0.5", "prune.scope.min-channels=2",
            "finetune.epochs=1",
            "evaluate.models=[train, prune, finetune]", "evaluate.write-predictions=false",
            "evaluate.latency.warmup=1", "evaluate.latency.runs=3");

    @Test
    @Order(1)
    void prunesToTheMacTargetFromMeasuredSensitivities() throws Exception {
        it.run();
        Dataset<Row> s = it.table("sensitivity", "sensitivities.parquet");
        assertEquals(1 + 6 * 3, s.count(), "the baseline and 6 groups x 3 ratios");
        Row baseline = s.where("`group` = ''").first();
        assertEquals(0.0, baseline.<Double>getAs("drop"), 1e-12);
        assertEquals(0L, s.where("reused").count());
        assertTrue(s.where("ratio = 0.75").agg(org.apache.spark.sql.functions.min("macs")).first().getLong(0)
                < baseline.<Long>getAs("macs"));

        long dense = it.table("train", "models.parquet").first().getAs("macs");
        Row pruned = it.table("prune", "models.parquet").first();
        double reduction = 1 - pruned.<Long>getAs("macs") / (double) dense;
        assertEquals(0.5, reduction, 0.005, "within 1% of the -50% target");

        // the plan replays on the trained model to exactly the pruned model
        ComputationGraph trained = it.model("train");
        PruningPlan plan = plan(it.runDir().resolve("prune"));
        ComputationGraph replayed = Pruner.apply(trained, plan);
        ComputationGraph written = it.model("prune");
        assertEquals(written.params(), replayed.params());

        // the pipeline replays a saved plan too: strategy "plan" on the same model, in another run directory;
        // the plan names its groups, so a scope that matches none does not matter
        Path replay = it.runDir().resolve("replay");
        List<String> replaying = List.of("run.dir=\"" + replay + "\"", "pipeline.stages=[prune]",
                "prune.strategy=plan", "prune.model=\"" + it.runDir().resolve("train") + "\"",
                "prune.scope.match=[no-such-layer]");
        it.run(replaying, "prune.plan-from=\"" + it.runDir().resolve("prune") + "\"");
        assertEquals(written.params(), TestPipeline.model(replay.resolve("prune")).params());
        assertEquals(plan.toJson(), Files.readString(replay.resolve("prune/plan.json")));
        ConfigException unnamed = assertThrows(ConfigException.class, () -> it.run(replaying));
        assertTrue(unnamed.getMessage().contains("prune.plan-from"), unnamed.getMessage());
        ConfigException noPlan = assertThrows(ConfigException.class,
                () -> it.run(replaying, "prune.plan-from=\"" + it.runDir().resolve("train") + "\""));
        assertTrue(noPlan.getMessage().contains("train/plan.json"), noPlan.getMessage());

        assertEquals(3, it.table("evaluate", "metrics.parquet").count());
        assertEquals(pruned.<Long>getAs("macs"), it.table("finetune", "models.parquet").first().<Long>getAs("macs"));
        String report = Files.readString(it.runDir().resolve("report/report.md"));
        assertTrue(report.contains("Pruning ratios") && report.contains("sensitivity.png"), report);
        assertTrue(Files.size(it.runDir().resolve("report/sensitivity.png")) > 10_000);
    }

    @Test
    @Order(2)
    void anotherRatioComputesOnlyTheNewRows() throws Exception {
        List<StageOutcome> outcomes = it.run("sensitivity.ratios=[0.25, 0.5, 0.6, 0.75]");
        assertTrue(TestPipeline.ran(outcomes).contains("sensitivity"));
        Dataset<Row> s = it.table("sensitivity", "sensitivities.parquet");
        assertEquals(1 + 6 * 4, s.count());
        assertEquals(6, s.where("not reused").count(), "only the six (group, 0.6) rows are new");
        assertEquals(6, s.where("not reused and ratio = 0.6").count());
    }

    @Test
    @Order(3)
    void greedyAllocationWithRecalibratedBatchNormsKeepsWidthsInMultiplesOfTheRounding() throws Exception {
        List<String> greedy = List.of("pipeline.stages=[prepare-data, train, sensitivity, prune]",
                "prune.allocation=greedy", "prune.scope.round-to=8", "prune.scope.min-channels=8",
                "prune.bn-recalibration-images=200");
        ConfigException bad = assertThrows(ConfigException.class, () -> it.run(greedy, "prune.allocation=cheapest"));
        assertTrue(bad.getMessage().contains("prune.allocation") && bad.getMessage().contains("cheapest"), bad.getMessage());

        it.run(greedy);
        PruningPlan plan = plan(it.runDir().resolve("prune"));
        assertTrue(!plan.groups().isEmpty());
        for (PruningPlan.GroupPlan g : plan.groups()) {
            assertEquals(0, g.kept().length % 8, g.group() + " keeps " + g.kept().length);
        }
        long dense = it.table("train", "models.parquet").first().getAs("macs");
        double reduction = 1 - it.table("prune", "models.parquet").first().<Long>getAs("macs") / (double) dense;
        assertEquals(0.5, reduction, 0.05, "steps of 8 channels land near the -50% target");
        searchStartsFromTheGreedyPlan(plan, reduction);

        // recalibrated points are measured anew, never taken from the plain ones of the earlier runs
        assertEquals(0, it.table("sensitivity", "sensitivities.parquet").where("reused").count());
        // the written model is the replayed plan with new batch norm statistics and the same weights
        ComputationGraph trained = it.model("train");
        ComputationGraph replayed = Pruner.apply(trained, plan);
        ComputationGraph written = it.model("prune");
        for (org.deeplearning4j.nn.api.Layer layer : written.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            for (String param : layer.paramTable().keySet()) {
                boolean same = layer.getParam(param).equals(replayed.getLayer(name).getParam(param));
                boolean statistic = param.equals("mean") || param.equals("var") || param.equals("log10stdev");
                assertEquals(!statistic, same, name + "." + param);
            }
        }
    }

    /**
     * The annealing starts from a given plan's widths (its first candidate) and refuses, naming the
     * key and file, a checkpoint without a plan, a plan whose widths the scope does not allow, and one
     * outside the MAC window.
     */
    private static void searchStartsFromTheGreedyPlan(PruningPlan greedy, double reduction) throws Exception {
        String window = String.format("prune.tolerance=%.4f", Math.abs(reduction - 0.5) + 0.01);
        List<String> search = List.of("pipeline.stages=[prune-search]", "prune.scope.round-to=8",
                "prune.scope.min-channels=8", window, "prune.bn-recalibration-images=200", "prune-search.rounds=1",
                "prune-search.candidates-per-round=2");
        it.run(search, "prune-search.start-from=prune");
        Row first = it.table("prune-search", "trials.parquet").where("round = 1 and candidate = 0").first();
        java.util.Map<String, Integer> widths = new java.util.HashMap<>();
        for (String w : first.<String>getAs("architecture").split(",")) {
            widths.put(w.split("=")[0], Integer.parseInt(w.split("=")[1]));
        }
        for (PruningPlan.GroupPlan g : greedy.groups()) {
            assertEquals(g.kept().length, (int) widths.get(g.group()), "the first candidate has the plan's " + g.group());
        }

        ConfigException noPlan = assertThrows(ConfigException.class, () -> it.run(search, "prune-search.start-from=train"));
        assertTrue(noPlan.getMessage().contains("prune-search.start-from") && noPlan.getMessage().contains("train/plan.json"),
                noPlan.getMessage());
        int narrowest = greedy.groups().stream().mapToInt(g -> g.kept().length).min().orElseThrow();
        ConfigException tooNarrow = assertThrows(ConfigException.class, () -> it.run(search,
                "prune-search.start-from=prune", "prune.scope.min-channels=" + (narrowest + 8)));
        assertTrue(tooNarrow.getMessage().contains("prune-search.start-from")
                && tooNarrow.getMessage().contains("prune/plan.json")
                && tooNarrow.getMessage().contains("keeps " + narrowest + " channels, not a width its scope allows"),
                tooNarrow.getMessage());
        ConfigException outside = assertThrows(ConfigException.class,
                () -> it.run(search, "prune-search.start-from=prune", "prune.target-macs-reduction=0.3"));
        assertTrue(outside.getMessage().contains("prune-search.start-from") && outside.getMessage().contains("does not meet"),
                outside.getMessage());
    }

    /**
     * Reconstruction refits the layers that read removed channels (3x3 convolutions here) to the dense
     * model's outputs, in every sensitivity variant and in the written model: the variants score better
     * (the unpruned baseline alike), only those layers' weights differ from the replayed plan's, and the
     * pruned model loses less before any fine-tuning.
     */
    @Test
    @Order(4)
    void reconstructionRefitsTheLayersThatReadRemovedChannels() throws Exception {
        List<String> greedy = List.of("pipeline.stages=[prepare-data, train, sensitivity, prune, evaluate]",
                "prune.allocation=greedy", "prune.scope.round-to=8", "prune.scope.min-channels=8",
                "prune.bn-recalibration-images=200", "evaluate.models=[prune]");
        it.run(greedy);
        double plainLoss = it.table("evaluate", "metrics.parquet").first().getAs("loss");
        Row plainBaseline = it.table("sensitivity", "sensitivities.parquet").where("`group` = ''").first();
        double plainMean = meanTop1OfVariants();

        assertEquals(List.of("sensitivity", "prune", "evaluate"),
                TestPipeline.ran(it.run(greedy, "prune.reconstruction-images=400")));
        Dataset<Row> s = it.table("sensitivity", "sensitivities.parquet");
        assertEquals(0, s.where("reused").count(), "reconstructed points are measured anew");
        assertEquals(plainBaseline.<Double>getAs("top1"), s.where("`group` = ''").first().<Double>getAs("top1"),
                "nothing to refit in the unpruned baseline");
        double refittedMean = meanTop1OfVariants();
        assertTrue(refittedMean > plainMean, "mean top-1 of the variants " + plainMean + " -> " + refittedMean);
        double refittedLoss = it.table("evaluate", "metrics.parquet").first().getAs("loss");
        assertTrue(refittedLoss < plainLoss, "test loss before fine-tuning " + plainLoss + " -> " + refittedLoss);

        ComputationGraph trained = it.model("train");
        PruningPlan plan = plan(it.runDir().resolve("prune"));
        ComputationGraph replayed = Pruner.apply(trained, plan);
        ComputationGraph refitted = it.model("prune");
        ChannelGraph dense = ChannelGraph.of(trained);
        java.util.Set<String> readers = new java.util.HashSet<>();
        plan.groups().forEach(g -> dense.group(g.group()).members(Role.CONSUMER).forEach(m -> readers.add(m.vertex())));
        assertTrue(readers.size() >= 2, readers.toString());
        for (org.deeplearning4j.nn.api.Layer layer : refitted.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            if (layer.paramTable().containsKey("W")) {
                assertEquals(!readers.contains(name), layer.getParam("W").equals(replayed.getLayer(name).getParam("W")),
                        name);
            }
        }
        ConfigException negative = assertThrows(ConfigException.class, () -> it.run(greedy, "prune.reconstruction-images=-5"));
        assertTrue(negative.getMessage().contains("prune.reconstruction-images"), negative.getMessage());
    }

    static PruningPlan plan(Path pruneCheckpoint) throws java.io.IOException {
        Path file = pruneCheckpoint.resolve("plan.json");
        return PruningPlan.fromJson(Files.readString(file), file.toString());
    }

    static double meanTop1OfVariants() {
        return it.table("sensitivity", "sensitivities.parquet").where("`group` <> ''")
                .agg(org.apache.spark.sql.functions.avg("top1")).first().getDouble(0);
    }

    /** Settings of the fine-tuning tests: a greedy plan in steps of 8, then fine-tuning alone. */
    static final List<String> TUNE = List.of("pipeline.stages=[prepare-data, train, sensitivity, prune, finetune]",
            "prune.allocation=greedy", "prune.scope.round-to=8", "prune.scope.min-channels=8",
            "prune.bn-recalibration-images=200");

    /** Runs {@link #TUNE} with {@code setting}, checks that only fine-tuning ran, and returns its model. */
    static ComputationGraph finetuneAgain(String... settings) throws Exception {
        assertEquals(List.of("finetune"), TestPipeline.ran(it.run(TUNE, settings)), "only fine-tuning reruns");
        return it.model("finetune");
    }

    @Test
    @Order(5)
    void fineTuningLearnsFromTheDenseTeacher() throws Exception {
        it.run(TUNE);
        ComputationGraph plain = it.model("finetune");

        ComputationGraph distilled = finetuneAgain("finetune.teacher=train");
        assertTrue(!distilled.params().equals(plain.params()), "the teacher changes what the student learns");
        // the saved student is a plain classifier again
        assertTrue(((BaseOutputLayer) distilled.getOutputLayer(0).conf().getLayer()).getLossFn() instanceof LossMCXENT);
        // no accuracy claim here: a one-epoch teacher on 2,000 images is too weak to teach (docs/PRUNING.md)
        assertEquals(1, it.table("finetune", "history.parquet").count());

        // a stage checkpoint named by its path (as another run's would be) teaches the same
        ComputationGraph byPath = finetuneAgain("finetune.teacher=\"" + it.runDir().resolve("train") + "\"");
        assertEquals(distilled.params(), byPath.params());

        // feature hints at pruned layers: the teacher's features cut to the channels the plan kept there
        PruningPlan plan = plan(it.runDir().resolve("prune"));
        ChannelGraph dense = ChannelGraph.of(it.model("train"));
        List<String> hinted = List.of("conv2.bn", "conv4.bn", "conv6.bn");
        assertTrue(hinted.stream().anyMatch(l -> plan.keptChannels(dense, l).length
                < dense.outputSpans(l).get(0).size()), "a hinted layer lost channels");
        ComputationGraph withHints = finetuneAgain("finetune.teacher=train", "distill.hint-layers=" + hinted);
        assertTrue(!withHints.params().equals(distilled.params()), "the hints change what the student learns");
        assertEquals(plain.getConfiguration().getVertices().keySet(), withHints.getConfiguration().getVertices().keySet(),
                "no hint layer is left in the saved model");
        assertEquals(List.of("fc"), withHints.getConfiguration().getNetworkOutputs());
        ConfigException unknown = assertThrows(ConfigException.class,
                () -> it.run(TUNE, "finetune.teacher=train", "distill.hint-layers=[conv9.bn]"));
        assertTrue(unknown.getMessage().contains("distill.hint-layers") && unknown.getMessage().contains("'conv9.bn'"),
                unknown.getMessage());

        ConfigException missing = assertThrows(ConfigException.class, () -> it.run(TUNE, "finetune.teacher=teacher-net"));
        assertTrue(missing.getMessage().contains("'teacher-net'"), missing.getMessage());
        Path nowhere = it.runDir().resolve("no-such-run/train");
        ConfigException absent = assertThrows(ConfigException.class,
                () -> it.run(TUNE, "finetune.teacher=\"" + nowhere + "\""));
        assertTrue(absent.getMessage().contains(nowhere + "'") && absent.getMessage().contains("not a completed"),
                absent.getMessage());
        ConfigException hot = assertThrows(ConfigException.class,
                () -> it.run(TUNE, "finetune.teacher=train", "distill.temperature=0"));
        assertTrue(hot.getMessage().contains("key 'distill.temperature' (--set distill.temperature): must be greater "
                + "than 0"), hot.getMessage());

        // any setting that names a stage reads a path as another run's checkpoint: the dense model
        // pruned when read by its path is the same pruned model, and evaluation scores a checkpoint by path
        ComputationGraph pruned = it.model("prune");
        Path prunePath = it.runDir().resolve("prune");
        it.run(TUNE, "pipeline.stages=[prepare-data, prune, evaluate]", "prune.model=\"" + it.runDir().resolve("train") + "\"",
                "evaluate.models=[\"" + prunePath + "\"]");
        assertEquals(pruned.params(), TestPipeline.model(prunePath)
                .params());
        assertEquals(List.of(prunePath.toString()), it.table("evaluate", "metrics.parquet").collectAsList().stream()
                .map(r -> r.<String>getAs("stage")).toList());
    }

    /** Another fine-tuning seed repeats only the fine-tuning; run.seed's value gives back the default's weights. */
    @Test
    @Order(6)
    void anotherFineTuningSeedRepeatsOnlyTheFineTuning() throws Exception {
        it.run(TUNE);
        ComputationGraph plain = it.model("finetune");
        assertTrue(!finetuneAgain("finetune.seed=7").params().equals(plain.params()), "another seed, other batches");
        assertEquals(plain.params(), finetuneAgain("finetune.seed=42").params(), "finetune.seed = run.seed is the default");
        for (String bad : List.of("finetune.seed=seven", "finetune.seed=7.5")) {
            ConfigException e = assertThrows(ConfigException.class, () -> it.run(TUNE, bad));
            assertTrue(e.getMessage().contains("finetune.seed"), e.getMessage());
        }
    }

    /**
     * Depth pruning on resnet20: with only stage 1 in scope and its inner widths measured to half, the
     * target is out of reach by channels alone, so whole blocks go; the plan replays, and the exported
     * model runs in ONNX Runtime.
     */
    @Test
    @Order(7)
    void removesWholeResidualBlocksWhenChannelsAloneCannotReachTheTarget() throws Exception {
        Path dir = it.runDir().resolve("blocks");
        it.run("run.dir=\"" + dir + "\"", "pipeline.stages=[prepare-data, train, sensitivity, prune, evaluate, export]",
                "model.family=resnet20", "sensitivity.ratios=[0.25, 0.5]", "prune.allocation=greedy",
                "prune.scope.match=[\"stage1.*\"]", "prune.scope.remove-blocks=true",
                "prune.target-macs-reduction=0.3", "prune.tolerance=0.2",
                "evaluate.models=[train, prune]", "export.models=[prune]",
                "export.latency.warmup=1", "export.latency.runs=3");
        Dataset<Row> s = it.parquet(dir.resolve("sensitivity/sensitivities.parquet"));
        assertEquals(1 + 3 * 2 + 3, s.count(), "the baseline, stage 1's 3 inner groups x 2 ratios and its 3 blocks");
        Dataset<Row> blocks = s.where("ratio = 1.0 and size = 1 and kept = 0");
        assertEquals(3, blocks.count());
        long baseMacs = s.where("`group` = ''").first().getAs("macs");
        blocks.collectAsList().forEach(r -> assertTrue(r.<Long>getAs("macs") < baseMacs, r.toString()));

        PruningPlan plan = plan(dir.resolve("prune"));
        assertTrue(!plan.removedBlocks().isEmpty(), plan.toJson());
        plan.removedBlocks().forEach(b -> assertTrue(b.startsWith("stage1."), b));
        long dense = it.parquet(dir.resolve("train/models.parquet")).first().getAs("macs");
        long prunedMacs = it.parquet(dir.resolve("prune/models.parquet")).first().getAs("macs");
        double reduction = 1 - prunedMacs / (double) dense;
        assertTrue(reduction >= 0.24 && reduction <= 0.36, "reduction " + reduction);

        ComputationGraph trained = TestPipeline.model(dir.resolve("train"));
        ComputationGraph replayed = Pruner.apply(trained, plan);
        ComputationGraph written = TestPipeline.model(dir.resolve("prune"));
        assertEquals(written.params(), replayed.params());
        // vgg's plan does not fit resnet20: refused, naming the file and the group
        List<String> misfitting = List.of("run.dir=\"" + it.runDir().resolve("misfit") + "\"", "pipeline.stages=[prune]",
                "prune.strategy=plan", "prune.model=\"" + dir.resolve("train") + "\"");
        ConfigException misfit = assertThrows(ConfigException.class,
                () -> it.run(misfitting, "prune.plan-from=\"" + it.runDir().resolve("prune") + "\""));
        assertTrue(misfit.getMessage().contains("prune/plan.json") && misfit.getMessage().contains("group '")
                && misfit.getMessage().contains("another model"), misfit.getMessage());
        Dataset<Row> ratios = it.parquet(dir.resolve("prune/ratios.parquet"));
        assertEquals(plan.removedBlocks().size(), ratios.where("size = 1 and kept = 0").count(),
                "ratios.parquet lists the removed blocks");
        assertEquals(plan.removedBlocks().size(), ratios.where("size > 1 and kept = 0").count(),
                "and each removed block's inner group as gone");
        assertEquals(1, it.parquet(dir.resolve("export/exports.parquet")).count(),
                "the block-removed model passed the ONNX Runtime check");

        // replayed under the default scope (no block removable), the plan still removes its blocks and lists them
        Path replay = it.runDir().resolve("blocks-replayed");
        it.run(List.of("run.dir=\"" + replay + "\"", "pipeline.stages=[prune]", "prune.strategy=plan",
                "prune.model=\"" + dir.resolve("train") + "\""), "prune.plan-from=\"" + dir.resolve("prune") + "\"");
        assertEquals(written.params(), TestPipeline.model(replay.resolve("prune")).params());
        assertEquals(plan.removedBlocks().size(), it.parquet(replay.resolve("prune/ratios.parquet"))
                .where("size = 1 and kept = 0").count());
    }

    /**
     * Network slimming: the train stage's L1 penalty on batch norm scales leaves some at exactly 0, and
     * ranking by {@code bn_scale} removes those channels before any other of their group.
     */
    @Test
    @Order(8)
    void theBatchNormScalePenaltyLeavesChannelsThatBnScalePruningRemovesFirst() throws Exception {
        Path dir = it.runDir().resolve("slim");
        // 16 steps at a mean learning rate near 0.05 move a scale by up to 1.6
        List<String> slim = List.of("run.dir=\"" + dir + "\"", "pipeline.stages=[prepare-data, train, prune]",
                "train.bn-scale-l1=2", "prune.strategy=uniform", "prune.target-macs-reduction=0.3",
                "prune.criterion=bn_scale");
        it.run(slim);
        ComputationGraph trained = TestPipeline.model(dir.resolve("train"));
        assertTrue(BatchNormScaleShrinkage.zeroScales(trained).zero() > 0, "some scales end at exactly 0");
        for (PruningPlan.GroupPlan g : plan(dir.resolve("prune")).groups()) {
            INDArray gamma = trained.getLayer(g.group() + ".bn").getParam("gamma");
            Set<Integer> kept = IntStream.of(g.kept()).boxed().collect(Collectors.toSet());
            long zerosKept = kept.stream().filter(k -> gamma.getDouble(k) == 0).count();
            long zerosRemoved = IntStream.range(0, g.size())
                    .filter(k -> !kept.contains(k) && gamma.getDouble(k) == 0).count();
            assertTrue(zerosKept == 0 || zerosRemoved == g.size() - g.kept().length,
                    g.group() + ": a channel at 0 is kept while one that is not was removed");
        }
        ConfigException negative = assertThrows(ConfigException.class, () -> it.run(slim, "train.bn-scale-l1=-1"));
        assertTrue(negative.getMessage().contains("train.bn-scale-l1"), negative.getMessage());
    }

    /**
     * Iterative pruning: two rounds of sensitivity, pruning and fine-tuning reach the target together,
     * and their plans, composed into one plan of the original model, replay with the plan strategy.
     */
    @Test
    @Order(9)
    void iterativePruningReachesTheTargetInStepsAndItsPlansReplayAsOne() throws Exception {
        Path dir = it.runDir().resolve("iterative");
        it.run("run.dir=\"" + dir + "\"", "pipeline.stages=[prepare-data, train, prune-iterative]",
                "prune-iterative.steps=2", "prune-iterative.epochs-per-step=1", "prune.target-macs-reduction=0.4",
                "prune.allocation=greedy", "prune.tolerance=0.05");
        List<Row> steps = it.parquet(dir.resolve("prune-iterative/steps.parquet")).orderBy("step").collectAsList();
        assertEquals(2, steps.size());
        assertTrue(steps.get(0).<Double>getAs("achieved_reduction") < steps.get(1).<Double>getAs("achieved_reduction"));
        long dense = it.parquet(dir.resolve("train/models.parquet")).first().getAs("macs");
        long pruned = it.parquet(dir.resolve("prune-iterative/models.parquet")).first().getAs("macs");
        assertEquals(0.4, 1 - pruned / (double) dense, 0.4 * 0.05 + 1e-9, "the overall target, within the tolerance");
        assertEquals(2, new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(Files.readString(dir.resolve("prune-iterative/plans.json"))).size());

        Path replay = dir.resolve("replay");
        it.run("run.dir=\"" + replay + "\"", "pipeline.stages=[prune]", "prune.strategy=plan",
                "prune.model=\"" + dir.resolve("train") + "\"", "prune.plan-from=\"" + dir.resolve("prune-iterative") + "\"");
        Row replayed = it.parquet(replay.resolve("prune/models.parquet")).first();
        assertEquals(pruned, replayed.<Long>getAs("macs"), "the composed plan gives the iterative run's widths");
        assertEquals(it.parquet(dir.resolve("prune-iterative/models.parquet")).first().<Long>getAs("params"),
                replayed.<Long>getAs("params"));
    }
}
