package org.sparkslim.jobs.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.config.RunConfig;
import org.sparkslim.jobs.stages.Stages;

/**
 * Settings are read and checked for every listed stage before any runs, a stage's signature covers
 * exactly the keys its settings read, and a stage can appear twice under two names.
 */
class StageSettingsTest {
    static final Pipeline PIPELINE = new Pipeline(Stages.all(), "test");

    @TempDir
    Path dir;

    static List<StageInstance<?>> plan(String... overrides) {
        return PIPELINE.plan(RunConfig.load(List.of(), List.of(overrides)));
    }

    static StageInstance<?> stage(List<StageInstance<?>> stages, String name) {
        return stages.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void fiveWrongValuesInFiveSectionsAreReportedTogetherBeforeAnyStageRuns() {
        ConfigException e = assertThrows(ConfigException.class, () -> plan(
                "pipeline.stages=[prepare-data, train, sensitivity, prune, qat, ptq]",
                "train.epochs=0", "sensitivity.ratios=[0.5, 1.5]", "prune.strategy=sensitivity",
                "prune.allocation=gredy", "qat.activations=dynamik", "ptq.calibration=kll"));
        String m = e.getMessage();
        assertTrue(m.startsWith("invalid config (5 faults)"), m);
        assertTrue(m.contains("key 'train.epochs' (--set train.epochs): must be at least 1, got 0"), m);
        assertTrue(m.contains("key 'sensitivity.ratios'") && m.contains("1.5 must be in (0, 1)"), m);
        assertTrue(m.contains("key 'prune.allocation'") && m.contains("did you mean 'greedy'"), m);
        assertTrue(m.contains("key 'qat.activations'") && m.contains("dynamik"), m);
        assertTrue(m.contains("key 'ptq.calibration'") && m.contains("kll"), m);
    }

    @Test
    void crossKeyRulesAndUnknownStagesAreConfigFaults() {
        ConfigException e = assertThrows(ConfigException.class, () -> plan(
                "pipeline.stages=[prepare-data, train, prune, evalute]", "prune.target-macs-reduction=1.5"));
        assertTrue(e.getMessage().contains("key 'prune.target-macs-reduction' (--set prune.target-macs-reduction): "
                + "must be in (0, 1), got 1.5"), e.getMessage());
        assertTrue(e.getMessage().contains("unknown stage 'evalute' (did you mean 'evaluate'?)"), e.getMessage());
    }

    @Test
    void anImportedFileMustBeOnnxOrKeras() {
        ConfigException e = assertThrows(ConfigException.class, () -> plan(
                "pipeline.stages=[prepare-data, import]", "import.file=models/classifier.keras"));
        assertTrue(e.getMessage().contains("key 'import.file' (--set import.file): 'models/classifier.keras' is neither "
                + "an ONNX file (.onnx) nor a Keras HDF5 file (.h5, .hdf5); save the Keras model with "
                + "model.save(\"model.h5\")"), e.getMessage());
        plan("pipeline.stages=[prepare-data, import]", "import.file=" + Path.of("..", "lib-compression", "src", "test",
                "resources", "keras", "tfjs-residual.h5").toAbsolutePath());
    }

    @Test
    void distillationLossesAreCheckedEntryByEntry() {
        ConfigException e = assertThrows(ConfigException.class, () -> plan(
                "pipeline.stages=[prepare-data, train, distill]", "distill.teacher=train",
                "distill.student-model.family=vgg16",
                "distill.l2=[{student = a, teacher = b, wieght = 2}, {student = a, weight = 1}]",
                "distill.fsp=[{student = [a, b, c], teacher = [c, d]}, {student = [a, b], teacher = [c, d], weight = 0}]"));
        String m = e.getMessage();
        assertTrue(m.startsWith("invalid config (5 faults)"), m);
        assertTrue(m.contains("key 'distill.student-model.family'") && m.contains("vgg16"), m);
        assertTrue(m.contains("key 'distill.l2'") && m.contains("[0]: unknown [wieght]"), m);
        assertTrue(m.contains("[1]: No configuration setting found for key 'teacher'"), m);
        assertTrue(m.contains("key 'distill.fsp'") && m.contains("[0]: student must name two layers"), m);
        assertTrue(m.contains("[1]: a feature loss's weight must be positive, got 0.0"), m);

        // a label-only fine-tune beside a distill stage does not read the distill losses
        StageInstance<?> labelsOnly = stage(plan("pipeline.stages=[prepare-data, train, distill, finetune]",
                "distill.teacher=train", "distill.student=train", "finetune.model=distill",
                "distill.fsp=[{student = [a, b], teacher = [c, d]}]"), "finetune");
        assertFalse(labelsOnly.keysRead().containsKey("distill.fsp"));

        StageInstance<?> fromStage = stage(plan("pipeline.stages=[prepare-data, train, distill]", "distill.teacher=train",
                "distill.student=train"), "distill");
        assertFalse(fromStage.keysRead().containsKey("distill.student-model.family"),
                "a student read from a stage needs no zoo model");
        assertEquals(List.of("prepare-data", "train"), fromStage.inputs(), "the teacher's own model can learn further");
    }

    @Test
    void offlineDistillationLearnsStoredTargetsOfUnaugmentedImages() {
        ConfigException e = assertThrows(ConfigException.class, () -> plan(
                "pipeline.stages=[prepare-data, train, soft-labels, distill]", "distill.mode=offline",
                "distill.student-model.family=vgg", "distill.hint-layers=[conv1.bn]", "train.augmentation.padding=2",
                "distill.l2=[{student = conv6.bn, teacher = conv6.bn}]", "soft-labels.activations=[conv5.bn]"));
        String m = e.getMessage();
        assertTrue(m.startsWith("invalid config (3 faults)"), m);
        assertTrue(m.contains("key 'distill.hint-layers'") && m.contains("offline distillation has no hints"), m);
        assertTrue(m.contains("key 'distill.l2'") && m.contains("[0]: offline, its teacher target (activation of conv6.bn)"
                + " must be stored by the soft-labels stage; it stores [activation of conv5.bn]"), m);
        assertTrue(m.contains("needs train.augmentation { padding = 0, flip-probability = 0 }"), m);

        StageInstance<?> withTargets = stage(plan("pipeline.stages=[prepare-data, train, soft-labels, distill]",
                "distill.mode=offline", "distill.student-model.family=vgg", "train.augmentation.padding=0",
                "train.augmentation.flip-probability=0", "distill.fsp=[{student = [conv5.bn, conv6.bn], "
                        + "teacher = [conv5.bn, conv6.bn]}]", "soft-labels.fsp=[{from = conv5.bn, to = conv6.bn}]"),
                "distill");
        assertEquals(List.of("prepare-data", "soft-labels", "train"), withTargets.inputs(),
                "the teacher that stored the targets sizes the adapters");

        StageInstance<?> offline = stage(plan("pipeline.stages=[prepare-data, train, soft-labels, distill]",
                "distill.mode=offline", "distill.student-model.family=vgg", "train.augmentation.padding=0",
                "train.augmentation.flip-probability=0"), "distill");
        assertEquals(List.of("prepare-data", "soft-labels"), offline.inputs(), "no teacher runs offline");
        assertFalse(offline.keysRead().containsKey("distill.teacher"));
    }

    @Test
    void trainingInTheExecutorsRefusesWhatOnlyTheDriverCanDo() {
        ConfigException e = assertThrows(ConfigException.class, () -> plan(
                "pipeline.stages=[prepare-data, train, finetune, qat, soft-labels, distill]",
                "train.distributed.mode=parameter-averaging", "train.bn-scale-l1=1e-4", "finetune.model=train",
                "finetune.teacher=train", "qat.model=finetune", "qat.teacher=train", "distill.mode=offline",
                "distill.student-model.family=vgg", "train.augmentation.padding=0",
                "train.augmentation.flip-probability=0", "soft-labels.activations=[conv6.bn]",
                "distill.l2=[{student = conv6.bn, teacher = conv6.bn}]"));
        String m = e.getMessage();
        assertTrue(m.startsWith("invalid config (5 faults)"), m);
        assertTrue(m.contains("key 'qat.activations'") && m.contains("'moving_average_abs_max' learns its ranges "
                + "outside the parameters that parameter averaging (train.distributed.mode) combines"), m);
        assertTrue(m.contains("key 'train.bn-scale-l1' (--set train.bn-scale-l1): shrinks the scales after every step, "
                + "which the workers of train.distributed.mode = parameter-averaging take on their own copies: it must "
                + "be 0"), m);
        assertTrue(m.contains("key 'train.distributed.mode' (--set train.distributed.mode): parameter averaging cannot run "
                + "finetune.teacher (train) on every batch"), m);
        assertTrue(m.contains("parameter averaging cannot run qat.teacher (train) on every batch"), m);
        assertTrue(m.contains("feature losses (distill.l2, distill.fsp) train locally"), m);

        StageInstance<?> offline = stage(plan("pipeline.stages=[prepare-data, train, soft-labels, distill]",
                "train.distributed.mode=parameter-averaging", "distill.mode=offline", "distill.student-model.family=vgg",
                "train.augmentation.padding=0", "train.augmentation.flip-probability=0"), "distill");
        assertEquals("\"parameter-averaging\"", offline.keysRead().get("train.distributed.mode"),
                "soft labels alone train in the executors, and where a stage trains is part of its signature");
        assertEquals("5", offline.keysRead().get("train.distributed.averaging-frequency"));
        assertFalse(stage(plan("pipeline.stages=[prepare-data, train]"), "train").keysRead()
                .containsKey("train.distributed.averaging-frequency"), "local training has no averaging");

        ConfigException sharing = assertThrows(ConfigException.class, () -> plan(
                "pipeline.stages=[prepare-data, train, finetune]", "train.distributed.mode=gradient-sharing",
                "finetune.model=train", "finetune.teacher=train"));
        assertTrue(sharing.getMessage().contains("gradient sharing cannot run finetune.teacher (train) on every batch"),
                sharing.getMessage());
        assertFalse(stage(plan("pipeline.stages=[prepare-data, train]", "train.distributed.mode=gradient-sharing"),
                "train").keysRead().containsKey("train.distributed.averaging-frequency"),
                "gradient sharing averages nothing");

        ConfigException typo = assertThrows(ConfigException.class, () -> plan("pipeline.stages=[prepare-data, train]",
                "train.distributed.mode=parameter-averageing"));
        assertTrue(typo.getMessage().contains("did you mean 'parameter-averaging'"), typo.getMessage());
    }

    @Test
    void aStageReadsOnlyWhatItsChoicesNeed() {
        StageInstance<?> uniform = stage(plan("pipeline.stages=[prune]"), "prune");
        assertFalse(uniform.keysRead().containsKey("prune.allocation"), "uniform pruning allocates nothing");
        assertFalse(uniform.keysRead().containsKey("prune.plan-from"));
        StageInstance<?> replay = stage(plan("pipeline.stages=[prune]", "prune.strategy=plan",
                "prune.plan-from=runs/x/prune"), "prune");
        assertFalse(replay.keysRead().containsKey("prune.target-macs-reduction"), "a replayed plan has its own target");
        assertTrue(replay.keysRead().containsKey("prune.plan-from"));
    }

    @Test
    void keysAStageReadsThroughSharedSettingsAreInItsSignature() {
        // fine-tuning with feature hints reads the teacher's channel graph
        StageInstance<?> finetune = stage(plan("pipeline.stages=[finetune]", "finetune.teacher=train",
                "distill.hint-layers=[block5.pw.bn]"), "finetune");
        assertTrue(finetune.keysRead().containsKey("prune.unsupported-vertices"), finetune.keysRead().keySet().toString());
        // pruning that restores its model assembles batches: classes and normalization matter
        StageInstance<?> prune = stage(plan("pipeline.stages=[prune]", "prune.bn-recalibration-images=500"), "prune");
        assertTrue(prune.keysRead().containsKey("data.num-classes"));
        assertTrue(prune.keysRead().containsKey("data.normalization.std"));

        String base = Signature.of(prune, Map.of(), "1");
        StageInstance<?> skip = stage(plan("pipeline.stages=[prune]", "prune.bn-recalibration-images=500",
                "prune.unsupported-vertices=skip"), "prune");
        assertNotEquals(base, Signature.of(skip, Map.of(), "1"));
        StageInstance<?> other = stage(plan("pipeline.stages=[prune]", "prune.bn-recalibration-images=500",
                "evaluate.batch-size=7", "qat.epochs=9"), "prune");
        assertEquals(base, Signature.of(other, Map.of(), "1"), "keys it does not read do not matter");
    }

    /**
     * What makes the signature cover everything a stage reads: stages see their typed settings, never
     * the config, so every key they use went through the reader that records it.
     */
    @Test
    void stagesCannotReadTheConfigBehindTheirSettings() throws IOException {
        for (Method m : StageContext.class.getMethods()) {
            assertFalse(Config.class.isAssignableFrom(m.getReturnType()), "StageContext." + m.getName() + " returns Config");
        }
        List<String> readers = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java/org/sparkslim/jobs/stages"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                if (Files.readString(f).contains("import com.typesafe.config.")) {
                    readers.add(f.getFileName().toString());
                }
            }
        }
        assertEquals(List.of(), readers, "stages that read the config directly");
    }

    /** A stage is a composition of shared operations: none calls another stage's code. */
    @Test
    void noStageUsesAnotherStage() throws IOException {
        Path dir = Path.of("src/main/java/org/sparkslim/jobs/stages");
        List<String> stageClasses = new ArrayList<>();
        Stages.all().all().forEach(stage -> stageClasses.add(stage.getClass().getSimpleName()));
        List<String> uses = new ArrayList<>();
        for (String stage : stageClasses) {
            String source = Files.readString(dir.resolve(stage + ".java"));
            for (String other : stageClasses) {
                if (!other.equals(stage) && source.matches("(?s).*\\b" + other + "\\b.*")) {
                    uses.add(stage + " -> " + other);
                }
            }
        }
        assertEquals(List.of(), uses);
    }

    @Test
    void aRepeatedStageHasItsOwnSectionWithTheStagesDefaults() {
        List<StageInstance<?>> stages = plan("pipeline.stages=[prepare-data, train, finetune, finetune-2]",
                "finetune-2.type=finetune", "finetune-2.model=finetune", "finetune-2.epochs=2");
        StageInstance<?> second = stage(stages, "finetune-2");
        assertTrue(second.stage() instanceof org.sparkslim.jobs.stages.FinetuneStage);
        assertEquals(List.of("prepare-data", "finetune"), second.inputs());
        assertEquals("2", second.keysRead().get("finetune-2.epochs"));
        assertEquals("0.01", second.keysRead().get("finetune-2.learning-rate"), "the defaults of finetune");
        assertFalse(second.keysRead().containsKey("finetune.epochs"));
        assertNotEquals(Signature.of(stage(stages, "finetune"), Map.of(), "1"), Signature.of(second, Map.of(), "1"));

        ConfigException typo = assertThrows(ConfigException.class, () -> RunConfig.load(List.of(),
                List.of("finetune-2.type=finetune", "finetune-2.epoch=2")));
        assertTrue(typo.getMessage().contains("unknown key 'finetune-2.epoch'")
                && typo.getMessage().contains("did you mean 'finetune-2.epochs'"), typo.getMessage());
        ConfigException twice = assertThrows(ConfigException.class, () -> plan("pipeline.stages=[train, train]"));
        assertTrue(twice.getMessage().contains("train-2 { type = train }"), twice.getMessage());
        ConfigException badType = assertThrows(ConfigException.class, () -> plan("pipeline.stages=[tune]",
                "tune.type=finetnue"));
        assertTrue(badType.getMessage().contains("did you mean 'finetune'"), badType.getMessage());
    }

    @Test
    void configFilesLayerLeftToRightThenOverrides() throws IOException {
        Path run = Files.writeString(dir.resolve("run.conf"), "train.epochs = 3\ndata.partitions = 4\nrun.dir = a\n");
        Path cluster = Files.writeString(dir.resolve("cluster.conf"), "data.partitions = 32\nrun.dir = b\n");
        Config c = RunConfig.load(List.of(run, cluster), List.of("run.dir=c"));
        assertEquals(3, c.getInt("train.epochs"));
        assertEquals(32, c.getInt("data.partitions"));
        assertEquals("c", c.getString("run.dir"));
    }

    @Test
    void aRepeatedStageCanInheritFromTheFirstBySubstitution() throws IOException {
        Path file = Files.writeString(dir.resolve("chain.conf"), String.join("\n",
                "pipeline.stages = [prepare-data, train, finetune, qat, finetune-2]",
                "finetune { epochs = 4, learning-rate = 0.02 }",
                "finetune-2 = ${finetune} { type = finetune, model = qat, epochs = 1 }", ""));
        StageInstance<?> second = stage(PIPELINE.plan(RunConfig.load(List.of(file), List.of())), "finetune-2");
        assertEquals("0.02", second.keysRead().get("finetune-2.learning-rate"));
        assertEquals("1", second.keysRead().get("finetune-2.epochs"));
        assertEquals(List.of("prepare-data", "qat"), second.inputs());
    }
}
