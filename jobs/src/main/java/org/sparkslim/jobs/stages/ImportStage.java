package org.sparkslim.jobs.stages;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sparkslim.compression.keras.KerasImporter;
import org.sparkslim.compression.model.ImportedModel;
import org.sparkslim.compression.model.ModelCost;
import org.sparkslim.compression.onnx.OnnxImporter;
import org.sparkslim.jobs.config.ConfigException;
import org.sparkslim.jobs.config.SettingsReader;
import org.sparkslim.jobs.pipeline.Stage;
import org.sparkslim.jobs.pipeline.StageContext;
import org.sparkslim.jobs.settings.DataSettings;
import org.sparkslim.jobs.tables.ModelCheckpoint;

/**
 * Reads a classifier trained elsewhere ({@code import.file}, on any Hadoop file system) as this run's
 * model, so that every stage that takes a model can take it: {@code prune.model = import}. An
 * {@code .onnx} file goes through the project's ONNX importer, a Keras {@code .h5} file through DL4J's
 * Keras importer; both give the project's own layout. The model must take the data's images
 * ({@code data.*}) and have its number of classes.
 */
public final class ImportStage implements Stage<ImportStage.Settings> {
    private static final Logger LOG = LoggerFactory.getLogger(ImportStage.class);
    /** The family recorded for an imported model: none of the zoo's. */
    public static final String FAMILY = "imported";

    /** The file formats this stage reads, by file name ending. */
    public enum Format {
        ONNX, KERAS;

        /** The format of {@code file}, or null when its name says none of them. */
        static Format of(String file) {
            String name = file.toLowerCase(Locale.ROOT);
            return name.endsWith(".onnx") ? ONNX : name.endsWith(".h5") || name.endsWith(".hdf5") ? KERAS : null;
        }
    }

    public record Settings(String file, Format format, DataSettings data) {
    }

    @Override
    public String name() {
        return "import";
    }

    @Override
    public String description() {
        return "read a classifier trained elsewhere (import.file: ONNX or Keras .h5) as this run's model";
    }

    @Override
    public Settings settings(SettingsReader r) {
        String file = r.nonEmpty("import.file", "name the .onnx or Keras .h5 file to import");
        Format format = Format.of(file);
        if (!file.isBlank()) {
            r.fingerprint("import.file", file, false);
            if (format == null) {
                r.fault("import.file", "'" + file + "' is neither an ONNX file (.onnx) nor a Keras HDF5 file (.h5, "
                        + ".hdf5)" + (file.endsWith(".keras") ? "; save the Keras model with model.save(\"model.h5\")" : ""));
            }
        }
        return new Settings(file, format, DataSettings.read(r));
    }

    @Override
    public List<String> inputs(Settings settings) {
        return List.of();
    }

    @Override
    public List<String> outputs(Settings settings) {
        return ModelCheckpoint.singleModelOutputs();
    }

    @Override
    public void run(StageContext<Settings> ctx) throws Exception {
        Settings s = ctx.settings();
        ImportedModel imported;
        try {
            imported = s.format() == Format.ONNX ? OnnxImporter.read(read(s.file()), s.file()) : readKeras(s.file());
        } catch (IllegalArgumentException e) {
            throw new ConfigException("import.file: " + e.getMessage(), e);
        }
        if (!imported.input().equals(s.data().shape())) {
            throw new ConfigException("import.file: " + s.file() + " takes images of " + imported.input()
                    + " (channels x height x width), the data (data.*) are " + s.data().shape());
        }
        long classes = ((FeedForwardLayer) imported.net().getOutputLayer(0).conf().getLayer()).getNOut();
        if (classes != s.data().numClasses()) {
            throw new ConfigException("import.file: " + s.file() + " has " + classes + " classes, the data (data.*) "
                    + s.data().numClasses());
        }
        ModelCost cost = ModelCost.of(imported.net(), s.data().shape());
        LOG.info("imported {}: {} vertices, {} MACs, {} params{}", s.file(),
                imported.net().getConfiguration().getVertices().size(), cost.macs(), cost.params(),
                imported.endedInLogits() ? "; it ended in logits, its classifier now ends in a softmax" : "");
        ModelCheckpoint.writeSingle(ctx, imported.net(), FAMILY, "", s.data().shape());
    }

    /** DL4J's Keras importer reads local files: a copy of the file, wherever it is. */
    private static ImportedModel readKeras(String file) throws IOException {
        java.nio.file.Path local = Files.createTempFile("sparkslim-import-", ".h5");
        try {
            Files.write(local, read(file));
            return KerasImporter.read(local, file);
        } finally {
            Files.deleteIfExists(local);
        }
    }

    private static byte[] read(String file) throws IOException {
        Path path = new Path(file);
        try (InputStream in = path.getFileSystem(new Configuration()).open(path)) {
            return in.readAllBytes();
        }
    }
}
