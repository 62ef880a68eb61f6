package org.sparkslim.compression.data;

/** Input data that cannot be used as it is. The message names the file or column and the fault. */
public class InvalidDataException extends RuntimeException {
    public InvalidDataException(String message) {
        super(message);
    }

    public InvalidDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
