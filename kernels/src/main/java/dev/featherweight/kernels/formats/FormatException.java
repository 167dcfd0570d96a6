package dev.featherweight.kernels.formats;

import java.nio.file.Path;

/**
 * A model file that cannot be read or written as asked. The message always names the file and,
 * where one is involved, the tensor, then the problem, so a user can act on it without a stack trace.
 */
public class FormatException extends RuntimeException {
    private final Path file;
    private final String tensor;

    public FormatException(Path file, String tensor, String problem) {
        this(file, tensor, problem, null);
    }

    public FormatException(Path file, String tensor, String problem, Throwable cause) {
        super(describe(file, tensor, problem), cause);
        this.file = file;
        this.tensor = tensor;
    }

    public FormatException(Path file, String problem) {
        this(file, null, problem, null);
    }

    private static String describe(Path file, String tensor, String problem) {
        StringBuilder sb = new StringBuilder();
        sb.append(file == null ? "<no file>" : file.toString());
        if (tensor != null) sb.append(": tensor '").append(tensor).append('\'');
        sb.append(": ").append(problem);
        return sb.toString();
    }

    /** The file at fault (null when the input did not come from a file). */
    public Path file() {
        return file;
    }

    /** The tensor at fault, or null when the problem is not about one tensor. */
    public String tensor() {
        return tensor;
    }
}
