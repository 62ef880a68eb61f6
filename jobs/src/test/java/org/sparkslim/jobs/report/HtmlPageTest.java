package org.sparkslim.jobs.report;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HtmlPageTest {
    @Test
    void theReportsMarkdownBecomesAPageWithItsTablesAndImages() {
        String markdown = new StringBuilder().append("# Run <script>alert(1)</script>\n\n")
                .append(new MarkdownTable("stage", "top-1 %").row("train", 91.5).row("qat", 91.25))
                .append("\n![top-1 against MACs](evaluate-top1-macs.png)\n\n")
                .append("[bad](javascript:alert(2))\n").toString();
        String page = HtmlPage.render("Nightly <b>run</b>", markdown);
        assertTrue(page.startsWith("<!DOCTYPE html>"), page);
        assertTrue(page.contains("<title>Nightly &lt;b&gt;run&lt;/b&gt;</title>"), page);
        assertTrue(page.contains("<th align=\"right\">top-1 %</th>") && page.contains("<td>qat</td>"), page);
        assertTrue(page.contains("<img src=\"evaluate-top1-macs.png\" alt=\"top-1 against MACs\""), page);
        assertTrue(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "markup in text stays text: " + page);
        assertFalse(page.contains("<script") || page.contains("javascript:"), page);
        assertTrue(page.contains("border-collapse"), "the style is in the page: " + page);
    }
}
