package org.sparkslim.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code sparkslim benchmark sensitivity}, small: it times the same tasks on both masters and prints the ratio. */
class SensitivityBenchmarkTest {
    @Test
    void timesTheSameTasksOnEachMasterAndPrintsTheSpeedUp() {
        TestPipeline.requireFashionMnist();
        TestPipeline.Printed run = TestPipeline.execute("benchmark", "sensitivity", "--model", "vgg", "--data-dir",
                TestPipeline.FASHION.toString(), "--val-images", "200", "--ratios", "0.3,0.6");
        String printed = run.out();
        assertEquals(0, run.code(), printed);
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
