package dev.featherweight.kernels.pipeline;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Calibration samples: N windows of L tokens drawn from a token stream at seeded random offsets (GPTQ's
 * get_loaders draws random windows of the c4/wikitext stream the same way), each starting with BOS.
 */
public final class CalibrationData {
    private CalibrationData() {
    }

    /** Token ids of a calibration file: a little-endian uint32 token file (*.u32) or text encoded with {@code encoder}. */
    public static int[] tokens(Path file, Function<String, int[]> encoder) throws IOException {
        if (file.getFileName().toString().endsWith(".u32")) {
            byte[] b = Files.readAllBytes(file);
            if (b.length % 4 != 0) throw new IOException(file + ": " + b.length + " bytes is not a whole number of uint32 tokens");
            int[] t = new int[b.length / 4];
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(t);
            return t;
        }
        if (encoder == null) throw new IOException(file + ": a text calibration file needs the model's tokenizer");
        return encoder.apply(Files.readString(file));
    }

    /** {@code n} samples of {@code len} tokens: BOS, then len − 1 consecutive tokens from a seeded random offset. */
    public static int[][] sample(int[] tokens, int n, int len, long seed, int bos) {
        if (len < 2) throw new IllegalArgumentException("--seq-len must be at least 2, got " + len);
        if (tokens.length < len) throw new IllegalArgumentException("calibration text has " + tokens.length + " tokens, fewer than --seq-len " + len);
        SplittableRandom rnd = new SplittableRandom(seed);
        int[][] s = new int[n][len];
        for (int i = 0; i < n; i++) {
            int start = rnd.nextInt(tokens.length - (len - 1) + 1);
            s[i][0] = bos;
            System.arraycopy(tokens, start, s[i], 1, len - 1);
        }
        return s;
    }
}
