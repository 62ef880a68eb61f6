package org.sparkslim.jobs.pipeline;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.util.Suggestions;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.config.RunConfig;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * Runs the stages a config lists, in order, each at most once: a stage whose checkpoint carries the
 * signature it would have now, and none of whose inputs was rebuilt in this run, is skipped; otherwise
 * it runs into a temporary directory that is committed only when it finishes. Before the first stage
 * runs, the settings of every listed stage are read and checked, and every input is found.
 */
public final class Pipeline {
    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

    private final StageRegistry registry;
    private final String codeVersion;

    public Pipeline(StageRegistry registry, String codeVersion) {
        this.registry = registry;
        this.codeVersion = codeVersion;
    }

    /**
     * @param fromStage when not null, this stage and every one after it run even if their checkpoints match
     */
    public List<StageOutcome> run(SparkSession spark, Config config, String fromStage) throws Exception {
        List<StageInstance<?>> stages = plan(config);
        int forceFrom = fromStage == null ? stages.size() : indexOf(stages, fromStage);
        RunDirectory run = RunDirectory.open(config.getString("run.dir"),
                spark.sparkContext().hadoopConfiguration());
        try (RunLock lock = RunLock.take(run.fileSystem(), run.root())) {
            checkInputs(stages, run);
            return run(spark, config, stages, run, forceFrom, fromStage);
        }
    }

    private List<StageOutcome> run(SparkSession spark, Config config, List<StageInstance<?>> stages, RunDirectory run,
                                   int forceFrom, String fromStage) throws Exception {
        // with the lock held, whatever .tmp holds was left by runs that ended
        run.clearTemporary();
        run.writeText(new Path(run.root(), "run.conf"), RunConfig.render(config));
        LOG.info("run directory {}, code version {}", run.root(), codeVersion);

        Map<String, Stage<?>> runStages = new LinkedHashMap<>();
        stages.forEach(s -> runStages.put(s.name(), s.stage()));
        Map<String, String> signatures = new LinkedHashMap<>();
        Set<String> ranNow = new HashSet<>();
        List<StageOutcome> outcomes = new ArrayList<>();
        for (int i = 0; i < stages.size(); i++) {
            StageInstance<?> stage = stages.get(i);
            Map<String, String> inputs = new LinkedHashMap<>();
            for (String input : stage.inputs()) {
                inputs.put(input, signatures.containsKey(input) ? signatures.get(input)
                        : run.completedSignature(input).orElseThrow());
            }
            String signature = Signature.of(stage, inputs, codeVersion);
            signatures.put(stage.name(), signature);
            // A stage whose input was just rebuilt runs too: the new input may differ even with the same signature.
            String rebuiltInput = inputs.keySet().stream().filter(ranNow::contains).findFirst().orElse(null);
            Optional<String> previous = run.completedSignature(stage.name());
            String reason = i >= forceFrom ? "forced by --from " + fromStage
                    : previous.isEmpty() ? "no complete checkpoint"
                    : !previous.get().equals(signature) ? changed(run, stage.name())
                    : rebuiltInput != null ? "its input " + rebuiltInput + " was rebuilt"
                    : null;
            if (reason == null) {
                Optional<String> damage = run.damage(stage.name());
                if (damage.isPresent()) {
                    throw new ConfigException("the checkpoint of '" + stage.name() + "' is damaged: " + damage.get()
                            + "; rebuild it with --from " + stage.name());
                }
            }
            if (reason == null) {
                LOG.info("[{}/{}] {}: checkpoint is up to date, skipped", i + 1, stages.size(), stage.name());
                outcomes.add(new StageOutcome(stage.name(), StageOutcome.Status.SKIPPED, signature, 0));
                continue;
            }
            LOG.info("[{}/{}] {}: running ({}; signature {})", i + 1, stages.size(), stage.name(), reason,
                    signature.substring(0, 12));
            long start = System.nanoTime();
            if (i >= forceFrom || rebuiltInput != null) {
                run.discardResumeArea(stage.name()); // to be run from the start, not resumed
            }
            outcomes.add(new StageOutcome(stage.name(), StageOutcome.Status.RAN, signature,
                    runOne(spark, run, stage, signature, runStages)));
            ranNow.add(stage.name());
            LOG.info("[{}/{}] {}: done in {} s", i + 1, stages.size(), stage.name(),
                    String.format("%.1f", (System.nanoTime() - start) / 1e9));
        }
        return outcomes;
    }

    /**
     * The stages of {@code pipeline.stages} with their settings, read and checked. Every fault of every
     * stage is reported at once, in one {@link ConfigException}.
     */
    public List<StageInstance<?>> plan(Config config) {
        Set<String> faults = new LinkedHashSet<>(); // stages that read the same key report its fault once
        List<StageInstance<?>> stages = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (String name : config.getStringList("pipeline.stages")) {
            if (!names.add(name)) {
                faults.add("pipeline.stages: '" + name + "' is listed twice; a repeated stage takes a name and a "
                        + "section of its own, e.g. " + name + "-2 { type = " + name + " }");
                continue;
            }
            List<String> unknown = new ArrayList<>();
            Optional<Stage<?>> stage = registry.stageListedAs(name, config, unknown);
            faults.addAll(unknown);
            if (stage.isEmpty()) {
                continue;
            }
            SettingsReader reader = new SettingsReader(config, stage.get().name(), name);
            stages.add(StageInstance.read(name, stage.get(), reader));
            faults.addAll(reader.faults());
        }
        if (!faults.isEmpty()) {
            throw new ConfigException("invalid config (" + faults.size() + (faults.size() == 1 ? " fault" : " faults")
                    + "):\n  " + String.join("\n  ", faults));
        }
        return stages;
    }

    /**
     * Every input is listed before its reader or already complete (in this run directory, or another
     * run's), and a complete one that is read as it is still has the files it was committed with.
     */
    private static void checkInputs(List<StageInstance<?>> stages, RunDirectory run) {
        List<String> faults = new ArrayList<>();
        Set<String> before = new HashSet<>();
        for (StageInstance<?> stage : stages) {
            for (String input : stage.inputs()) {
                if (before.contains(input)) {
                    continue;
                }
                if (run.completedSignature(input).isPresent()) {
                    run.damage(input).ifPresent(d -> faults.add("stage '" + stage.name() + "' reads '" + input
                            + "', whose checkpoint is damaged: " + d + "; " + (RunDirectory.isOtherRun(input)
                            ? "rebuild it in its own run" : "rebuild it by listing it in pipeline.stages")));
                    continue;
                }
                faults.add("stage '" + stage.name() + "' reads '" + input + "', which " + (RunDirectory.isOtherRun(input)
                        ? "is not a completed stage checkpoint (" + run.stage(input) + ")"
                        : "is neither listed before it in pipeline.stages nor completed in " + run.root()
                        + Suggestions.didYouMean(input, before)));
            }
            before.add(stage.name());
        }
        if (!faults.isEmpty()) {
            throw new ConfigException("missing inputs:\n  " + String.join("\n  ", faults));
        }
    }

    private static int indexOf(List<StageInstance<?>> stages, String name) {
        for (int i = 0; i < stages.size(); i++) {
            if (stages.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new ConfigException("--from " + name + ": no such stage in pipeline.stages "
                + stages.stream().map(StageInstance::name).toList());
    }

    /** Why a checkpoint's signature differs: other code wrote it, or else its config or inputs changed. */
    private String changed(RunDirectory run, String stage) {
        String code = run.completedCode(stage).orElse(null);
        return code != null && !code.equals(codeVersion) ? "its checkpoint is from code version " + code
                : "its config or inputs changed";
    }

    private <S> double runOne(SparkSession spark, RunDirectory run, StageInstance<S> stage, String signature,
                              Map<String, Stage<?>> runStages) throws Exception {
        long start = System.nanoTime();
        Path output = run.begin(stage.name());
        Path resumeArea = run.resumeArea(stage.name(), signature);
        spark.sparkContext().setJobGroup(stage.name(), stage.name() + ": " + stage.stage().description(), false);
        try {
            stage.stage().run(new StageContext<>(stage, spark, run, output, resumeArea, runStages));
            run.commit(stage.name(), output, stage.outputs(), signature, codeVersion);
            run.discardResumeArea(stage.name());
        } catch (Exception | Error e) {
            run.discard(output);
            throw e;
        } finally {
            spark.sparkContext().clearJobGroup();
        }
        return (System.nanoTime() - start) / 1e9;
    }
}
