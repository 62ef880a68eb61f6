package org.sparkslim.compression.util;

import java.util.List;
import java.util.regex.Pattern;

/** Vertex-name patterns with {@code *} (any run of characters) and {@code ?} (one character). */
public final class NamePatterns {
    private NamePatterns() {
    }

    public static boolean matchesAny(List<String> globs, String name) {
        for (String glob : globs) {
            if (glob(glob).matcher(name).matches()) {
                return true;
            }
        }
        return false;
    }

    static Pattern glob(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString());
    }
}
