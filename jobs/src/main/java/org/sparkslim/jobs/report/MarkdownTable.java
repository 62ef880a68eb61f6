package org.sparkslim.jobs.report;

import java.util.ArrayList;
import java.util.List;

/** A Markdown table built row by row; numbers right-aligned. */
public final class MarkdownTable {
    private final List<String> header;
    private final List<Boolean> numeric;
    private final List<List<String>> rows = new ArrayList<>();

    public MarkdownTable(String... columns) {
        header = List.of(columns);
        numeric = new ArrayList<>();
        for (String ignored : columns) {
            numeric.add(Boolean.FALSE);
        }
    }

    public MarkdownTable row(Object... cells) {
        if (cells.length != header.size()) {
            throw new IllegalArgumentException(cells.length + " cells for " + header.size() + " columns");
        }
        List<String> row = new ArrayList<>();
        for (int i = 0; i < cells.length; i++) {
            if (cells[i] instanceof Number) {
                numeric.set(i, Boolean.TRUE);
            }
            row.add(String.valueOf(cells[i]));
        }
        rows.add(row);
        return this;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append("| ").append(String.join(" | ", header)).append(" |\n|");
        for (Boolean n : numeric) {
            sb.append(n ? "---:|" : "---|");
        }
        sb.append('\n');
        for (List<String> row : rows) {
            sb.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        return sb.toString();
    }
}
