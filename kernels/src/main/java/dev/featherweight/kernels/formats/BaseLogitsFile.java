package dev.featherweight.kernels.formats;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * llama-perplexity's {@code --kl-divergence-base} file: the base model's log-probabilities, so that a quantized model
 * can be compared with it without running the base again; either tool reads the other's file. Layout (little-endian):
 * <pre>
 *   "_logits_"                 8 bytes
 *   n_ctx                      uint32
 *   n_vocab                    int32
 *   n_chunk                    int32
 *   tokens                     n_ctx · n_chunk int32 (the text's tokens, BOS not substituted)
 *   per chunk, rows = n_ctx − 1 − n_ctx/2 (the scored second half), each nv = 2·((n_vocab+1)/2) + 4 uint16:
 *     float scale, float min_log_prob (the first 4 uint16), then n_vocab uint16 codes, zero padding to nv
 * </pre>
 * Written and read one chunk at a time, so the memory needed is one chunk's rows whatever the text's length.
 */
public final class BaseLogitsFile {
    private static final byte[] MAGIC = "_logits_".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int HEADER_BYTES = 8 + 4 + 4 + 4;

    private BaseLogitsFile() {
    }

    /** uint16 values per row: the two floats, the vocabulary rounded up to even. */
    public static int rowValues(int vocab) {
        return 2 * ((vocab + 1) / 2) + 4;
    }

    /** Rows kept per chunk: predictions from positions ctx/2 … ctx−2. */
    public static int rowsPerChunk(int ctx) {
        return ctx - 1 - ctx / 2;
    }

    /** The file's size for a context, vocabulary and chunk count. */
    public static long bytes(int ctx, int vocab, int chunks) {
        return HEADER_BYTES + 4L * ctx * chunks + 2L * rowValues(vocab) * rowsPerChunk(ctx) * chunks;
    }

    /** Writes the header and tokens at once, then one chunk's rows per {@link #writeChunk} call. */
    public static final class Writer implements AutoCloseable {
        private final Path path;
        private final OutputStream out;
        private final int ctx, vocab, chunks;
        private final ByteBuffer chunkBytes;
        private int written;

        public Writer(Path path, int ctx, int vocab, int[] tokens, int chunks) {
            if ((long) ctx * chunks > tokens.length) {
                throw new IllegalArgumentException(chunks + " chunks of " + ctx + " need " + (long) ctx * chunks + " tokens, got " + tokens.length);
            }
            this.path = path;
            this.ctx = ctx;
            this.vocab = vocab;
            this.chunks = chunks;
            this.chunkBytes = ByteBuffer.allocate(2 * rowValues(vocab) * rowsPerChunk(ctx)).order(ByteOrder.LITTLE_ENDIAN);
            try {
                out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 16);
                ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES + 4 * ctx * chunks).order(ByteOrder.LITTLE_ENDIAN);
                head.put(MAGIC).putInt(ctx).putInt(vocab).putInt(chunks);
                for (int i = 0; i < ctx * chunks; i++) head.putInt(tokens[i]);
                out.write(head.array());
            } catch (IOException e) {
                throw new FormatException(FormatException.Kind.IO, path, null, "cannot write base logits: " + e.getMessage(), e);
            }
        }

        /**
         * Appends one chunk: rows × rowValues(vocab) codes, row-major, each row as {@link #encodeRow} leaves it. The
         * padding values of a row are written as given (zero when the row came from encodeRow on a zeroed array).
         */
        public void writeChunk(short[] rows) {
            if (written == chunks) throw new IllegalStateException("all " + chunks + " chunks are written");
            int n = rowValues(vocab) * rowsPerChunk(ctx);
            if (rows.length < n) throw new IllegalArgumentException("a chunk has " + n + " values, got " + rows.length);
            chunkBytes.clear();
            chunkBytes.asShortBuffer().put(rows, 0, n);
            try {
                out.write(chunkBytes.array(), 0, 2 * n);
            } catch (IOException e) {
                throw new FormatException(FormatException.Kind.IO, path, null, "cannot write base logits: " + e.getMessage(), e);
            }
            written++;
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException e) {
                throw new FormatException(FormatException.Kind.IO, path, null, "cannot write base logits: " + e.getMessage(), e);
            }
            if (written != chunks) {
                throw new IllegalStateException(path + ": " + written + " of " + chunks + " chunks written");
            }
        }
    }

    /** Reads the header and tokens on open, then the chunks in order, one {@link #readChunk} at a time. */
    public static final class Reader implements AutoCloseable {
        private final Path path;
        private final FileChannel channel;
        private final int ctx, vocab, chunks;
        private final int[] tokens;
        private final ByteBuffer chunkBytes;
        private int read;

        public Reader(Path path) {
            this.path = path;
            try {
                channel = FileChannel.open(path, StandardOpenOption.READ);
                ByteBuffer head = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                readFully(head, "header");
                byte[] magic = new byte[8];
                head.get(magic);
                if (!java.util.Arrays.equals(magic, MAGIC)) throw new FormatException(path, "not a base logits file (no _logits_ magic)");
                long c = head.getInt() & 0xFFFFFFFFL;
                vocab = head.getInt();
                chunks = head.getInt();
                if (c < 4 || c > 1 << 20 || vocab < 1 || vocab > 1 << 22 || chunks < 1) {
                    throw new FormatException(path, "impossible header: n_ctx " + c + ", n_vocab " + vocab + ", n_chunk " + chunks);
                }
                ctx = (int) c;
                if (bytes(ctx, vocab, chunks) != channel.size()) {
                    throw new FormatException(path, "size " + channel.size() + " bytes, but n_ctx " + ctx + ", n_vocab " + vocab + ", n_chunk " + chunks
                            + " make " + bytes(ctx, vocab, chunks));
                }
                ByteBuffer tok = ByteBuffer.allocate(4 * ctx * chunks).order(ByteOrder.LITTLE_ENDIAN);
                readFully(tok, "tokens");
                tokens = new int[ctx * chunks];
                tok.asIntBuffer().get(tokens);
                chunkBytes = ByteBuffer.allocate(2 * rowValues(vocab) * rowsPerChunk(ctx)).order(ByteOrder.LITTLE_ENDIAN);
            } catch (IOException e) {
                throw new FormatException(FormatException.Kind.IO, path, null, "cannot read base logits: " + e.getMessage(), e);
            }
        }

        public int ctx() {
            return ctx;
        }

        public int vocab() {
            return vocab;
        }

        public int chunks() {
            return chunks;
        }

        /** The text's tokens, ctx · chunks of them. */
        public int[] tokens() {
            return tokens;
        }

        /** Reads the next chunk's rows into rows (rowsPerChunk(ctx) × rowValues(vocab) codes). */
        public void readChunk(short[] rows) {
            if (read == chunks) throw new IllegalStateException("all " + chunks + " chunks are read");
            chunkBytes.clear();
            try {
                readFully(chunkBytes, "chunk " + (read + 1));
            } catch (IOException e) {
                throw new FormatException(FormatException.Kind.IO, path, null, "cannot read base logits: " + e.getMessage(), e);
            }
            chunkBytes.asShortBuffer().get(rows, 0, chunkBytes.capacity() / 2);
            read++;
        }

        private void readFully(ByteBuffer b, String what) throws IOException {
            while (b.hasRemaining()) {
                if (channel.read(b) < 0) throw new FormatException(path, "truncated in the " + what);
            }
            b.flip();
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // read-only: nothing was lost
            }
        }
    }

    /** The two floats at the start of a row: the code step and the log-probability of code 0. */
    public static float scale(short[] rows, int off) {
        return Float.intBitsToFloat((rows[off] & 0xFFFF) | (rows[off + 1] << 16));
    }

    public static float minLogProb(short[] rows, int off) {
        return Float.intBitsToFloat((rows[off + 2] & 0xFFFF) | (rows[off + 3] << 16));
    }

    static void putFloat(short[] rows, int off, float v) {
        int bits = Float.floatToRawIntBits(v);
        rows[off] = (short) bits;
        rows[off + 1] = (short) (bits >>> 16);
    }

    /**
     * Encodes one row of logits as llama-perplexity stores it and returns the token's negative log-likelihood.
     * min_logit is clamped to max_logit − 16; the codes are round((logit − min_logit)/scale) in float (half to even,
     * as its nearest_int), 0 at or below min_logit; scale = (max_logit − min_logit)/65535. Σexp is in double of float
     * exps, as there.
     */
    public static double encodeRow(float[] logits, int off, int vocab, int token, short[] rows, int rowOff) {
        float max = logits[off], min = logits[off];
        for (int i = 1; i < vocab; i++) {
            float v = logits[off + i];
            max = Math.max(max, v);
            min = Math.min(min, v);
        }
        min = Math.max(min, max - 16);
        double sumExp = 0;
        for (int i = 0; i < vocab; i++) sumExp += (float) Math.exp(logits[off + i] - max);
        float logSumExp = (float) Math.log(sumExp);
        float minLogProb = min - max - logSumExp;
        float scale = (max - min) / 65535f;
        putFloat(rows, rowOff, scale);
        putFloat(rows, rowOff + 2, minLogProb);
        int codes = rowOff + 4;
        if (scale != 0) {
            float inv = 1 / scale;
            for (int i = 0; i < vocab; i++) {
                float v = logits[off + i];
                rows[codes + i] = v > min ? (short) (int) Math.rint(inv * (v - min)) : 0;
            }
        } else {
            java.util.Arrays.fill(rows, codes, codes + vocab, (short) 0);
        }
        return max + logSumExp - logits[off + token];
    }
}
