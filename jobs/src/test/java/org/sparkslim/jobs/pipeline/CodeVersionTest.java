package org.sparkslim.jobs.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CodeVersionTest {
    @TempDir
    Path dir;

    @Test
    void aReleaseIsItsVersionAndASnapshotCarriesAFingerprintOfItsClasses() {
        assertEquals("1.2.0", CodeVersion.of("1.2.0", CodeVersion.class));
        String snapshot = CodeVersion.of("0.1.0-SNAPSHOT", CodeVersion.class);
        assertTrue(snapshot.matches("0\\.1\\.0-SNAPSHOT\\+[0-9a-f]{12}"), snapshot);
        assertEquals(snapshot, CodeVersion.of("0.1.0-SNAPSHOT", CodeVersion.class, Test.class),
                "a dependency's jar adds no project classes");
    }

    @Test
    void theFingerprintFollowsTheProjectsClassesOnly() throws IOException {
        Path a = write(dir.resolve("a"), "org/sparkslim/x/A.class", new byte[] {1, 2, 3});
        Path b = write(dir.resolve("b"), "org/sparkslim/x/A.class", new byte[] {1, 2, 3});
        String fingerprint = CodeVersion.fingerprint(List.of(a));
        assertEquals(fingerprint, CodeVersion.fingerprint(List.of(b)), "the same classes elsewhere");

        write(b, "org/other/B.class", new byte[] {4});
        write(b, "org/sparkslim/x/notes.txt", new byte[] {5});
        assertEquals(fingerprint, CodeVersion.fingerprint(List.of(b)), "other packages and resources do not count");

        write(b, "org/sparkslim/x/A.class", new byte[] {1, 2, 4});
        assertNotEquals(fingerprint, CodeVersion.fingerprint(List.of(b)), "a changed class");
        write(b, "org/sparkslim/x/A.class", new byte[] {1, 2, 3});
        write(b, "org/sparkslim/y/C.class", new byte[] {6});
        assertNotEquals(fingerprint, CodeVersion.fingerprint(List.of(b)), "an added class");

        Path jar = dir.resolve("a.jar");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(jar))) {
            zip.putNextEntry(new ZipEntry("org/sparkslim/x/A.class"));
            zip.write(new byte[] {1, 2, 3});
            zip.putNextEntry(new ZipEntry("org/apache/Z.class"));
            zip.write(new byte[] {7});
        }
        assertEquals(fingerprint, CodeVersion.fingerprint(List.of(jar)), "a jar of the same classes");

        Path empty = Files.createDirectories(dir.resolve("empty"));
        IllegalStateException none = assertThrows(IllegalStateException.class,
                () -> CodeVersion.fingerprint(List.of(empty)));
        assertTrue(none.getMessage().contains(empty.toString()), none.getMessage());
    }

    private static Path write(Path root, String entry, byte[] bytes) throws IOException {
        Path file = root.resolve(entry);
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(bytes);
        }
        return root;
    }
}
