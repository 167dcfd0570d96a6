package dev.featherweight.kernels.formats;

import java.nio.file.Path;

/**
 * A model file that cannot be read or written as asked. The message always names the file and,
 * where one is involved, the tensor, then the problem, so a user can act on it without a stack trace.
 * It is one line of printable text whatever the file held (names and values read from a damaged file
 * are escaped), and {@link #kind()} says which rule was broken, for callers that branch on it (tests, the
 * workers, which never retry a model that was refused).
 */
public class FormatException extends RuntimeException {
    /** Which rule the input broke. */
    public enum Kind {
        /** The bytes do not parse as the format (bad magic, truncated, malformed JSON, impossible counts). */
        MALFORMED,
        /** config.json or GGUF metadata: a key missing, of the wrong type, out of range, or contradicting another. */
        CONFIG,
        /** A size larger than the file, the heap or any real model can hold. */
        LIMIT,
        /** A tensor the architecture needs is absent. */
        MISSING_TENSOR,
        /** A tensor stored twice (a key twice in a header, or in two shards). */
        DUPLICATE_TENSOR,
        /** A tensor the architecture does not have (a renamed or extra tensor). */
        UNKNOWN_TENSOR,
        /** A tensor whose shape differs from the one the config implies (zero dimensions included). */
        SHAPE,
        /** A tensor stored in a dtype the architecture or the command cannot use. */
        DTYPE,
        /** Tensor data that overlap, leave gaps, or do not end where the file does. */
        LAYOUT,
        /** The tokenizer disagrees with the vocabulary size. */
        TOKENIZER,
        /** A NaN or infinite weight, scale or result. */
        NON_FINITE,
        /** The output path is being written by another run. */
        OUTPUT_BUSY,
        /** The output could not be written (disk, permissions). */
        IO;

        /** "missing-tensor": how the kind is printed. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    private final Path file;
    private final String tensor;
    private final Kind kind;

    public FormatException(Path file, String tensor, String problem) {
        this(Kind.MALFORMED, file, tensor, problem, null);
    }

    public FormatException(Path file, String tensor, String problem, Throwable cause) {
        this(Kind.MALFORMED, file, tensor, problem, cause);
    }

    public FormatException(Path file, String problem) {
        this(Kind.MALFORMED, file, null, problem, null);
    }

    public FormatException(Kind kind, Path file, String tensor, String problem) {
        this(kind, file, tensor, problem, null);
    }

    public FormatException(Kind kind, Path file, String tensor, String problem, Throwable cause) {
        super(describe(file, tensor, problem), cause);
        this.file = file;
        this.tensor = tensor;
        this.kind = kind;
    }

    private static String describe(Path file, String tensor, String problem) {
        StringBuilder sb = new StringBuilder();
        sb.append(file == null ? "<no file>" : file.toString());
        if (tensor != null) sb.append(": tensor '").append(tensor).append('\'');
        sb.append(": ").append(problem);
        return printable(sb.toString());
    }

    /**
     * The text with every control character, lone surrogate and U+FFFD (an undecodable byte) escaped as
     * {@code \\uXXXX}, so a name or value read from a damaged file can neither break the line nor make the
     * message look binary to a terminal or grep.
     */
    public static String printable(String s) {
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
            boolean bad = !pair && (Character.isISOControl(c) || Character.isSurrogate(c) || c == '\uFFFD'
                    || Character.getType(c) == Character.FORMAT || Character.getType(c) == Character.UNASSIGNED
                    || c == '\u2028' || c == '\u2029');
            if (bad && sb == null) sb = new StringBuilder(s.length() + 16).append(s, 0, i);
            if (sb != null) {
                if (bad) sb.append(String.format("\\u%04x", (int) c));
                else sb.append(c);
            }
            if (pair) {
                if (sb != null) sb.append(s.charAt(i + 1));
                i++;
            }
        }
        return sb == null ? s : sb.toString();
    }

    /** The file at fault (null when the input did not come from a file). */
    public Path file() {
        return file;
    }

    /** The tensor at fault, or null when the problem is not about one tensor. */
    public String tensor() {
        return tensor;
    }

    /** Which rule was broken. */
    public Kind kind() {
        return kind;
    }
}
