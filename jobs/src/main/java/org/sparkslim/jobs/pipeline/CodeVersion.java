package org.sparkslim.jobs.pipeline;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.sparkslim.compression.model.ModelFiles;

/**
 * The code version that enters every stage signature. A release is its project version. A
 * {@code -SNAPSHOT} build, which every build of the main branch is, is its version plus a fingerprint
 * of the project's compiled classes: otherwise a checkpoint written by older code of the same snapshot
 * would be reused as if nothing had changed. The same sources compile to the same classes, so
 * rebuilding unchanged code keeps every checkpoint.
 */
public final class CodeVersion {
    /** Only the project's own classes count; dependencies change with the version, not between builds. */
    static final String PROJECT_CLASSES = "org/sparkslim/";

    private CodeVersion() {
    }

    /**
     * {@code projectVersion}, with the fingerprint of the classes in the jars or directories that
     * {@code codeFrom} were loaded from when it is a snapshot.
     */
    public static String of(String projectVersion, Class<?>... codeFrom) {
        if (!projectVersion.endsWith("-SNAPSHOT")) {
            return projectVersion;
        }
        Set<Path> sources = new LinkedHashSet<>();
        for (Class<?> c : codeFrom) {
            sources.add(location(c));
        }
        return projectVersion + "+" + fingerprint(sources);
    }

    private static Path location(Class<?> c) {
        CodeSource source = c.getProtectionDomain().getCodeSource();
        if (source == null || source.getLocation() == null) {
            throw new IllegalStateException("cannot tell where " + c.getName() + " was loaded from, so a snapshot"
                    + " build cannot be fingerprinted");
        }
        try {
            return Path.of(source.getLocation().toURI());
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new IllegalStateException(c.getName() + " was loaded from " + source.getLocation()
                    + ", not a local jar or directory; a snapshot build cannot be fingerprinted", e);
        }
    }

    /**
     * The first 12 hex digits of the SHA-256 of the project's class files in {@code sources} (jars or
     * class directories), by path in sorted order; a class in a jar and the same class in a directory
     * count alike.
     */
    static String fingerprint(Collection<Path> sources) {
        Map<String, byte[]> classes = new TreeMap<>();
        for (Path source : sources) {
            try {
                if (Files.isDirectory(source)) {
                    readDirectory(source, classes);
                } else {
                    readJar(source, classes);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the classes of " + source + " to fingerprint the build", e);
            }
        }
        if (classes.isEmpty()) {
            throw new IllegalStateException("no class under " + PROJECT_CLASSES + " in " + sources);
        }
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        classes.forEach((name, bytes) -> {
            all.writeBytes(name.getBytes(StandardCharsets.UTF_8));
            all.write(0);
            all.writeBytes(bytes);
        });
        return ModelFiles.sha256(all.toByteArray()).substring(0, 12);
    }

    private static void readDirectory(Path root, Map<String, byte[]> classes) throws IOException {
        Path dir = root.resolve(PROJECT_CLASSES);
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                classes.put(root.relativize(f).toString().replace('\\', '/'), Files.readAllBytes(f));
            }
        }
    }

    private static void readJar(Path jar, Map<String, byte[]> classes) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                if (e.getName().startsWith(PROJECT_CLASSES) && e.getName().endsWith(".class")) {
                    try (InputStream in = zip.getInputStream(e)) {
                        classes.put(e.getName(), in.readAllBytes());
                    }
                }
            }
        }
    }
}
