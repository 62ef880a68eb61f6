package org.sparkslim.compression.prune;

/** A vertex whose channel mapping the pruner does not know; names the vertex and its type. */
public class UnsupportedVertexException extends RuntimeException {
    public UnsupportedVertexException(String vertex, String type, String why) {
        super("vertex '" + vertex + "' of type " + type + " " + why
                + "; exclude it from pruning or set unsupported-vertices = skip to leave its channels unpruned");
    }
}
