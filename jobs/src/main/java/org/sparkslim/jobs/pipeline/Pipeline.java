package org.sparkslim.jobs.pipeline;

import com.typesafe.config.Config;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.config.RunConfig;

/**
 * Runs the stages a config lists, in order, each at most once: a stage whose checkpoint carries the
 * signature it would have now, and none of whose inputs was rebuilt in this run, is skipped; otherwise
 * it runs into a temporary directory that is committed only when it finishes.
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
        List<Stage> stages = plan(config);
        int forceFrom = stages.size();
        if (fromStage != null) {
            forceFrom = indexOf(stages, fromStage);
        }
        RunDirectory run = RunDirectory.open(config.getString("run.dir"),
                spark.sparkContext().hadoopConfiguration());
        run.clearTemporary();
        run.writeText(new Path(run.root(), "run.conf"), RunConfig.render(config));
        LOG.info("run directory {}, code version {}", run.root(), codeVersion);

        Map<String, String> signatures = new LinkedHashMap<>();
        Set<String> ranNow = new HashSet<>();
        List<StageOutcome> outcomes = new ArrayList<>();
        for (int i = 0; i < stages.size(); i++) {
            Stage stage = stages.get(i);
            Map<String, String> inputs = new LinkedHashMap<>();
            for (String input : stage.inputs(config)) {
                String sig = signatures.containsKey(input) ? signatures.get(input)
                        : run.completedSignature(input).orElseThrow(() -> new ConfigException("stage '" + stage.name()
                        + "' reads '" + input + "', which " + (RunDirectory.isOtherRun(input)
                        ? "is not a completed stage checkpoint (" + run.stage(input) + ")"
                        : "is neither listed before it in pipeline.stages nor completed in " + run.root())));
                inputs.put(input, sig);
            }
            String signature = Signature.of(stage, config, inputs, codeVersion);
            signatures.put(stage.name(), signature);
            // A stage whose input was just rebuilt runs too: the new input may differ even with the same signature.
            String rebuiltInput = inputs.keySet().stream().filter(ranNow::contains).findFirst().orElse(null);
            java.util.Optional<String> previous = run.completedSignature(stage.name());
            String reason = i >= forceFrom ? "forced by --from " + fromStage
                    : previous.isEmpty() ? "no complete checkpoint"
                    : !previous.get().equals(signature) ? changed(run, stage.name())
                    : rebuiltInput != null ? "its input " + rebuiltInput + " was rebuilt"
                    : null;
            if (reason == null) {
                LOG.info("[{}/{}] {}: checkpoint is up to date, skipped", i + 1, stages.size(), stage.name());
                outcomes.add(new StageOutcome(stage.name(), StageOutcome.Status.SKIPPED, signature, 0));
                continue;
            }
            LOG.info("[{}/{}] {}: running ({}; signature {})", i + 1, stages.size(), stage.name(), reason,
                    signature.substring(0, 12));
            long start = System.nanoTime();
            outcomes.add(new StageOutcome(stage.name(), StageOutcome.Status.RAN, signature,
                    runOne(spark, config, run, stage, signature)));
            ranNow.add(stage.name());
            LOG.info("[{}/{}] {}: done in {} s", i + 1, stages.size(), stage.name(),
                    String.format("%.1f", (System.nanoTime() - start) / 1e9));
        }
        return outcomes;
    }

    /** The stages of {@code pipeline.stages}, checked against the registry. */
    public List<Stage> plan(Config config) {
        List<Stage> stages = new ArrayList<>();
        for (String name : config.getStringList("pipeline.stages")) {
            Stage stage = registry.get(name);
            if (stages.contains(stage)) {
                throw new ConfigException("stage '" + name + "' is listed twice in pipeline.stages");
            }
            stages.add(stage);
        }
        return stages;
    }

    private static int indexOf(List<Stage> stages, String name) {
        for (int i = 0; i < stages.size(); i++) {
            if (stages.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new ConfigException("--from " + name + ": no such stage in pipeline.stages "
                + stages.stream().map(Stage::name).toList());
    }

    /** Why a checkpoint's signature differs: other code wrote it, or else its config or inputs changed. */
    private String changed(RunDirectory run, String stage) {
        String code = run.completedCode(stage).orElse(null);
        return code != null && !code.equals(codeVersion) ? "its checkpoint is from code version " + code
                : "its config or inputs changed";
    }

    private double runOne(SparkSession spark, Config config, RunDirectory run, Stage stage, String signature)
            throws Exception {
        long start = System.nanoTime();
        Path output = run.begin(stage.name());
        spark.sparkContext().setJobGroup(stage.name(), stage.name() + ": " + stage.description(), false);
        try {
            stage.run(new StageContext(stage, spark, config, run, output));
            run.commit(stage.name(), output, signature, codeVersion);
        } catch (Exception | Error e) {
            run.discard(output);
            throw e;
        } finally {
            spark.sparkContext().clearJobGroup();
        }
        return (System.nanoTime() - start) / 1e9;
    }
}
