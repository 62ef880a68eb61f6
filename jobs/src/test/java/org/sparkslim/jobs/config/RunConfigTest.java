package org.sparkslim.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunConfigTest {
    @TempDir
    Path dir;

    Path write(String text) throws IOException {
        Path file = dir.resolve("run.conf");
        Files.writeString(file, text);
        return file;
    }

    @Test
    void fileOverridesDefaultsAndSetOverridesFile() throws IOException {
        Config c = RunConfig.load(write("train.epochs = 3\nmodel { family = vgg }\n"),
                List.of("train.epochs=5", "run.dir=hdfs:///runs/x", "spark.conf.\"spark.ui.enabled\"=false"));
        assertEquals(5, c.getInt("train.epochs"));
        assertEquals("vgg", c.getString("model.family"));
        assertEquals("hdfs:///runs/x", c.getString("run.dir"));
        assertEquals(128, c.getInt("train.batch-size"), "untouched keys keep their defaults");
        assertEquals(false, c.getBoolean("spark.conf.\"spark.ui.enabled\""));
    }

    @Test
    void aFileNamedWithoutADirectoryIncludesTheFilesBesideIt() throws IOException {
        // run from the directory of the configs, as "sparkslim run l2.conf" is
        Path base = Files.createTempFile(Path.of(""), "base", ".conf");
        Path run = Files.createTempFile(Path.of(""), "run", ".conf");
        try {
            Files.writeString(base, "train.epochs = 7\n");
            Files.writeString(run, "include \"" + base.getFileName() + "\"\nmodel.family = vgg\n");
            assertEquals(null, run.getParent(), "a bare file name");
            Config c = RunConfig.load(run, List.of());
            assertEquals(7, c.getInt("train.epochs"), "the included file was read");
            assertEquals("vgg", c.getString("model.family"));
        } finally {
            Files.delete(base);
            Files.delete(run);
        }
    }

    @Test
    void unknownKeyIsNamedWithItsFileLineAndASuggestion() throws IOException {
        Path file = write("train {\n  epoch = 3\n}\n");
        ConfigException e = assertThrows(ConfigException.class, () -> RunConfig.load(file, List.of()));
        assertTrue(e.getMessage().contains("unknown key 'train.epoch'"), e.getMessage());
        assertTrue(e.getMessage().contains("run.conf: 2"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'train.epochs'"), e.getMessage());
    }

    @Test
    void wrongTypesAreRejectedWithTheKey() throws IOException {
        ConfigException e = assertThrows(ConfigException.class,
                () -> RunConfig.load(write("train.learning-rate = fast\npipeline.stages = train\n"), List.of()));
        assertTrue(e.getMessage().contains("'train.learning-rate'") && e.getMessage().contains("expected a number"),
                e.getMessage());
        assertTrue(e.getMessage().contains("'pipeline.stages'") && e.getMessage().contains("expected a list"),
                e.getMessage());
    }

    @Test
    void countsMustBeWholeNumbers() throws IOException {
        ConfigException e = assertThrows(ConfigException.class,
                () -> RunConfig.load(write("train.epochs = 2.5\n"), List.of("finetune.epochs=1.5")));
        assertTrue(e.getMessage().contains("'train.epochs'") && e.getMessage().contains("'finetune.epochs'")
                && e.getMessage().contains("expected a whole number"), e.getMessage());
        Config c = RunConfig.load(List.of(), List.of("train.epochs=3.0", "train.learning-rate=0.05", "finetune.epochs=2",
                "model.width-multiplier=0.5", "distill.temperature=2.5"));
        assertEquals(0.5, c.getDouble("model.width-multiplier"), 1e-12, "its default 1.0 is not a count");
        assertEquals(2.5, c.getDouble("distill.temperature"), 1e-12, "nor is 4.0");
        assertEquals(3, c.getInt("train.epochs"));
        assertEquals(0.05, c.getDouble("train.learning-rate"), 1e-12);
    }

    @Test
    void overridesAreValidatedToo() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> RunConfig.load(List.of(), List.of("evaluate.batchsize=64")));
        assertTrue(e.getMessage().contains("--set evaluate.batchsize"), e.getMessage());
        assertTrue(e.getMessage().contains("did you mean 'evaluate.batch-size'"), e.getMessage());
        assertThrows(ConfigException.class, () -> RunConfig.load(List.of(), List.of("no-equals-sign")));
    }

    @Test
    void freeFormSectionsTakeTheirOwnKeys() {
        Config c = RunConfig.load(List.of(), List.of("model.widths.stage1=8", "spark.conf.\"spark.executor.memory\"=4g"));
        assertEquals(8, c.getInt("model.widths.stage1"));
    }

    /** No config value may make the job load a class, add code or run a command. */
    @Test
    void sparkSettingsThatCouldLoadCodeOrRunCommandsAreRejectedByName() throws IOException {
        Path file = write(String.join("\n", "spark.conf {",
                "  \"spark.extraListeners\" = com.example.Listener",
                "  \"spark.executor.extraJavaOptions\" = \"-XX:OnOutOfMemoryError=/bin/sh\"",
                "  \"spark.executorEnv.LD_PRELOAD\" = /tmp/x.so",
                "  \"spark.jars\" = /tmp/x.jar",
                "  \"spark.hadoop.fs.hdfs.impl\" = com.example.Fs",
                "  \"spark.executor.memroy\" = 4g",
                "}", "spark.master = \"local-cluster[2,1,1024]\"", ""));
        ConfigException e = assertThrows(ConfigException.class, () -> RunConfig.load(file, List.of()));
        for (String name : List.of("spark.extraListeners", "spark.executor.extraJavaOptions",
                "spark.executorEnv.LD_PRELOAD", "spark.jars", "spark.hadoop.fs.hdfs.impl")) {
            assertTrue(e.getMessage().contains("Spark setting \"" + name + "\" is not one a config may pass on"),
                    e.getMessage());
        }
        assertTrue(e.getMessage().contains("did you mean 'spark.executor.memory'"), e.getMessage());
        assertTrue(e.getMessage().contains("run.conf: 3"), "each fault says where it was set: " + e.getMessage());
        assertTrue(e.getMessage().contains("key 'spark.master'") && e.getMessage().contains("not a Spark master"),
                e.getMessage());
        assertThrows(ConfigException.class,
                () -> RunConfig.load(List.of(), List.of("spark.conf.\"spark.plugins\"=com.example.Plugin")));

        for (String master : List.of("local", "local[2]", "local[*]", "local[4,2]", "yarn", "spark://m1:7077,m2:7077",
                "k8s://https://10.0.0.1:6443")) {
            Config c = RunConfig.load(List.of(), List.of("spark.master=\"" + master + "\""));
            assertEquals(master, c.getString("spark.master"));
        }
        Config allowed = RunConfig.load(List.of(), List.of("spark.conf.\"spark.executorEnv.OMP_NUM_THREADS\"=1",
                "spark.conf.\"spark.dynamicAllocation.maxExecutors\"=8"));
        assertEquals(8, allowed.getInt("spark.conf.\"spark.dynamicAllocation.maxExecutors\""));
    }

    @Test
    void aNullDefaultIsUnsetUntilGiven() {
        assertTrue(RunConfig.load(List.of(), List.of()).getIsNull("finetune.seed"));
        assertEquals(7, RunConfig.load(List.of(), List.of("finetune.seed=7")).getLong("finetune.seed"));
    }

    @Test
    void missingFileIsNamed() {
        ConfigException e = assertThrows(ConfigException.class, () -> RunConfig.load(dir.resolve("x.conf"), List.of()));
        assertTrue(e.getMessage().contains("x.conf"), e.getMessage());
    }

    @Test
    void canonicalFormIgnoresKeyOrderAndLayout() throws IOException {
        Config a = RunConfig.load(write("train { epochs = 3, batch-size = 64 }"), List.of());
        Config b = RunConfig.load(write("train.batch-size = 64\n\ntrain.epochs = 3"), List.of());
        assertEquals(RunConfig.canonical(a, "train"), RunConfig.canonical(b, "train"));
    }
}
