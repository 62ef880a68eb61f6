package org.sparkslim.jobs.settings;

import java.io.Serializable;
import org.sparkslim.compression.data.BatchAssembler;
import org.sparkslim.compression.data.ImageShape;
import org.sparkslim.compression.data.Normalization;
import org.sparkslim.jobs.config.Range;
import org.sparkslim.jobs.config.SettingsReader;

/** What every stage that feeds images to a network needs of {@code data}: shape, classes, normalization. */
public record DataSettings(ImageShape shape, int numClasses, Normalization normalization) implements Serializable {
    public static DataSettings read(SettingsReader r) {
        ImageShape shape = shape(r);
        int classes = numClasses(r);
        double[] means = r.numberOrNumbers("data.normalization.mean", Range.ANY).stream().mapToDouble(d -> d).toArray();
        double[] stds = r.numberOrNumbers("data.normalization.std", Range.POSITIVE).stream().mapToDouble(d -> d).toArray();
        Normalization normalization = r.check("data.normalization", () -> new Normalization(means, stds));
        if (normalization != null && shape != null) {
            r.check("data.normalization", () -> normalization.table(shape.channels()));
        }
        return new DataSettings(shape, classes, normalization);
    }

    /** {@code data.image}: channels, height and width. */
    public static ImageShape shape(SettingsReader r) {
        int channels = r.integer("data.image.channels", Range.atLeast(1));
        int height = r.integer("data.image.height", Range.atLeast(1));
        int width = r.integer("data.image.width", Range.atLeast(1));
        return r.check("data.image", () -> new ImageShape(Math.max(channels, 1), Math.max(height, 1), Math.max(width, 1)));
    }

    public static int numClasses(SettingsReader r) {
        return r.integer("data.num-classes", Range.atLeast(2));
    }

    public BatchAssembler assembler() {
        return new BatchAssembler(shape, numClasses, normalization);
    }
}
