package org.sparkslim.jobs.pipeline;

import java.util.List;
import java.util.SortedMap;
import org.sparkslim.jobs.config.SettingsReader;

/**
 * A stage as one run uses it: its name in {@code pipeline.stages} (the stage's own name, or another
 * for a repeated stage), its checked settings, and the config keys those settings were read from.
 */
public final class StageInstance<S> {
    private final String name;
    private final Stage<S> stage;
    private final S settings;
    private final SortedMap<String, String> keysRead;

    private StageInstance(String name, Stage<S> stage, S settings, SortedMap<String, String> keysRead) {
        this.name = name;
        this.stage = stage;
        this.settings = settings;
        this.keysRead = keysRead;
    }

    /**
     * Reads the settings of {@code stage} listed as {@code name}. Faults go to {@code reader}; the
     * instance returned is only usable when it has none.
     */
    static <S> StageInstance<S> read(String name, Stage<S> stage, SettingsReader reader) {
        S settings;
        try {
            settings = stage.settings(reader);
        } catch (RuntimeException e) {
            if (reader.faults().isEmpty()) {
                throw e;
            }
            settings = null; // a consequence of a fault already recorded
        }
        return new StageInstance<>(name, stage, settings, reader.keysRead());
    }

    /** The name in {@code pipeline.stages} and of the checkpoint directory. */
    public String name() {
        return name;
    }

    public Stage<S> stage() {
        return stage;
    }

    public S settings() {
        return settings;
    }

    /** The config keys the settings were read from, with their values as canonical JSON. */
    public SortedMap<String, String> keysRead() {
        return keysRead;
    }

    public List<String> inputs() {
        return stage.inputs(settings);
    }

    public List<String> outputs() {
        return stage.outputs(settings);
    }
}
