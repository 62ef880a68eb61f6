package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.sparkslim.jobs.cli.SparkSlim;

/** {@code sparkslim benchmark sensitivity}, small: it times the same tasks on both masters and prints the ratio. */
class SensitivityBenchmarkTest {
    @Test
    void timesTheSameTasksOnEachMasterAndPrintsTheSpeedUp() {
        TestPipeline.requireFashionMnist();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = SparkSlim.execute("benchmark", "sensitivity", "--model", "vgg", "--data-dir", TestPipeline.FASHION.toString(),
                    "--val-images", "200", "--ratios", "0.3,0.6");
        } finally {
            System.setOut(oldOut);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, printed);
        // vgg has six prunable convolutions (the classifier is never pruned): 6 groups x 2 ratios
        assertTrue(printed.contains("12 tasks (groups x ratios), 200 val images each"), printed);
        Pattern line = Pattern.compile("^(local\\[\\d]) +([0-9.]+) s .* speed-up ([0-9.]+)x$", Pattern.MULTILINE);
        Matcher m = line.matcher(printed);
        List<String> masters = new ArrayList<>();
        while (m.find()) {
            masters.add(m.group(1));
            assertTrue(Double.parseDouble(m.group(2)) > 0 && Double.parseDouble(m.group(3)) > 0, m.group());
        }
        assertEquals(List.of("local[1]", "local[2]"), masters, printed);
        assertTrue(printed.contains("speed-up 1.00x"), "the first master is the reference: " + printed);
    }
}
