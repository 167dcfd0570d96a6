package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodec;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;
import dev.featherweight.kernels.quant.gguf.Q8Activations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * llama.cpp numerics' quantized products ({@link dev.featherweight.kernels.quant.gguf.GgmlDot}): the activation quants
 * are the values {@link Numerics} rounds to (Q8_0 and Q8_K blocks); every product of each weight type equals what
 * llama.cpp's CPU backend computed, bit for bit (fixtures cut from its tensor dumps, see
 * {@code src/test/resources/ggml-dot/README.md}; the class also runs in the vector-128 and vector-avx2 executions of
 * kernels/pom.xml, so the bits do not depend on the width); Q4_0 takes the repacked order only when ggml repacks it;
 * and a generated sequence gives the logits of the batched pass up to what the attention's order changes.
 */
class IntegerDotTest {

    @ParameterizedTest
    @ValueSource(strings = {"Q4_0", "Q4_K"})
    void activationQuantsTimesScalesAreWhatNumericsRoundsTo(String weightType) {
        int n = 3, cols = 512, blockSize = weightType.equals("Q4_0") ? 32 : 256;
        float[] x = activations(n * cols, 5);
        for (int j = 0; j < blockSize; j++) x[blockSize + j] = 0; // an all-zero block: scale 0, quants 0
        float[] rounded = new float[n * cols];
        float[] ref = Numerics.roundForWeights(weightType, x, n, cols, rounded);
        assertThat(ref).isSameAs(rounded);
        Q8Activations q = new Q8Activations();
        q.quantize(blockSize, x, n, cols);
        float[] ours = new float[n * cols];
        for (int i = 0; i < n * cols; i++) {
            assertThat(Math.abs(q.quant(i))).isLessThanOrEqualTo(127);
            // + 0f: Numerics keeps the sign of a quant rounded to zero (−0.0), an integer quant has none; both add 0 to a sum
            ours[i] = q.scale(i / blockSize) * q.quant(i) + 0f;
            rounded[i] += 0f;
        }
        assertThat(ours).containsExactly(rounded);
    }

    /**
     * Per weight type, two tokens' src1 and dst rows of one matmul of llama.cpp's first ubatch of dev.tinystories (native
     * AVX2 build of c392e50; an AVX-512 build runs the same code for these types), the weights being the golden GGUF's
     * tensor; the batched product and the one-token product (ggml's vec_dot / gemv) both give those bits.
     */
    @ParameterizedTest
    @CsvSource({
            "Q8_0, gguf/feather-3m-Q8_0.gguf, blk.0.ffn_down.weight",
            "Q4_0, gguf/feather-3m-Q4_0.gguf, blk.0.ffn_down.weight",
            "Q2_K, gguf/feather-3m-Q2_K.gguf, blk.0.ffn_gate.weight",
            "Q3_K, gguf/feather-3m-Q2_K.gguf, blk.0.ffn_down.weight",
            "Q4_K, gguf/feather-3m-Q4_K_M.gguf, blk.0.ffn_down.weight",
            "Q5_K, gguf-iq/feather-3m-IQ2_XS.imatrix.gguf, output.weight",
            "Q6_K, gguf/feather-3m-Q6_K.gguf, blk.0.ffn_down.weight",
            "IQ4_XS, gguf-iq/feather-3m-IQ4_XS.imatrix.gguf, blk.0.ffn_down.weight",
            "IQ2_XS, gguf-iq/feather-3m-IQ2_XS.imatrix.gguf, blk.0.ffn_down.weight"})
    void productsAreLlamaCppsBitForBit(String typeName, String file, String tensor) throws Exception {
        try (GgufFile gguf = GgufFile.open(SharedData.shared("golden").resolve(file)); Parallel pool = new Parallel(2)) {
            BlockMatrix w = new BlockMatrix(gguf.tensor(tensor));
            assertThat(w.format()).isEqualTo(typeName);
            int rows = w.rows(), cols = w.cols(), tokens = 2;
            ByteBuffer fixture;
            try (InputStream in = IntegerDotTest.class.getResourceAsStream("/ggml-dot/" + typeName + ".bin")) {
                fixture = ByteBuffer.wrap(in.readAllBytes()).order(ByteOrder.LITTLE_ENDIAN);
            }
            assertThat(fixture.remaining()).isEqualTo(4 * tokens * (cols + rows));
            float[] x = new float[tokens * cols], expected = new float[tokens * rows];
            fixture.asFloatBuffer().get(x).get(expected);
            Q8Activations q = new Q8Activations();
            q.quantize(w.q8BlockSize(), x, tokens, cols);
            float[] out = new float[tokens * rows];
            w.matmul(q, tokens, out, pool);
            assertThat(out).containsExactly(expected);
            float[] one = new float[rows];
            q.quantize(w.q8BlockSize(), Arrays.copyOfRange(x, cols, 2 * cols), 1, cols);
            w.matmul(q, 1, one, pool);
            assertThat(one).containsExactly(Arrays.copyOfRange(expected, rows, 2 * rows));
        }
    }

    /**
     * ggml repacks Q4_0 to q4_0_8x8 only when its row count is a multiple of 8; otherwise it multiplies as Q8_0 does
     * (8 lanes of 4 products per block, then the horizontal sum). So Q4_0 rows with 37 rows give exactly the products
     * of a Q8_0 matrix holding the same integers and scales, and with 40 rows (one chain of whole-block sums) not all.
     */
    @Test
    void q4_0TakesTheRepackedOrderOnlyForRowsInEights() {
        int cols = 256, tokens = 3;
        try (Arena arena = Arena.ofConfined(); Parallel pool = new Parallel(1)) {
            float[] x = activations(tokens * cols, 11);
            Q8Activations q = new Q8Activations();
            q.quantize(32, x, tokens, cols);
            for (int rows : new int[]{37, 40}) {
                MemorySegment q4 = matrixBytes(GgmlType.Q4_0, rows, cols, arena);
                MemorySegment q8 = arena.allocate(GgmlType.Q8_0.rowBytes(cols) * rows);
                for (long b = 0; b < (long) rows * cols / 32; b++) {
                    long o4 = b * GgmlType.Q4_0.typeSize, o8 = b * GgmlType.Q8_0.typeSize;
                    q8.set(ValueLayout.JAVA_SHORT_UNALIGNED, o8, q4.get(ValueLayout.JAVA_SHORT_UNALIGNED, o4));
                    for (int j = 0; j < 16; j++) {
                        int nibbles = q4.get(ValueLayout.JAVA_BYTE, o4 + 2 + j) & 0xFF;
                        q8.set(ValueLayout.JAVA_BYTE, o8 + 2 + j, (byte) ((nibbles & 0xF) - 8));
                        q8.set(ValueLayout.JAVA_BYTE, o8 + 2 + 16 + j, (byte) ((nibbles >> 4) - 8));
                    }
                }
                float[] out4 = new float[tokens * rows], out8 = new float[tokens * rows];
                new BlockMatrix(new Tensor("w", GgmlType.Q4_0, new long[]{rows, cols}, q4)).matmul(q, tokens, out4, pool);
                new BlockMatrix(new Tensor("w", GgmlType.Q8_0, new long[]{rows, cols}, q8)).matmul(q, tokens, out8, pool);
                if (rows == 37) assertThat(out4).containsExactly(out8);
                else assertThat(out4).isNotEqualTo(out8);
            }
        }
    }

    @Test
    void mismatchedActivationsAreRefused() {
        assertThatThrownBy(() -> new Q8Activations().quantize(64, new float[256], 1, 256)).isInstanceOf(IllegalArgumentException.class);
        try (Arena arena = Arena.ofConfined(); Parallel pool = new Parallel(1)) {
            BlockMatrix w = new BlockMatrix(new Tensor("w", GgmlType.Q8_0, new long[]{4, 64}, matrixBytes(GgmlType.Q8_0, 4, 64, arena)));
            Q8Activations q = new Q8Activations();
            q.quantize(32, new float[96], 1, 96);
            assertThatThrownBy(() -> w.matmul(q, 1, new float[4], pool))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32-blocks of 64");
        }
    }

    /** feather-3m as Q4_0: one token at a time and one batch multiply alike; the attention's order differs. */
    @Test
    void generatingTokenByTokenGivesTheLogitsOfTheBatchedPass() throws Exception {
        int[] tokens = {1, 422, 17, 305, 88, 9, 260, 41};
        try (Parallel pool = new Parallel(2);
             LoadedModel lm = ModelLoader.open(SharedData.shared("models").resolve("feather-3m"), null, pool, src -> new RequantizedSource(src, GgmlType.Q4_0, 2))) {
            LlamaSession batched = lm.model().newSession(tokens.length);
            batched.setNumerics(Numerics.LLAMACPP_KV_F32);
            float[] all = batched.forward(tokens, 0, tokens.length, 0, tokens.length - 1);
            LlamaSession oneByOne = lm.model().newSession(tokens.length);
            oneByOne.setNumerics(Numerics.LLAMACPP_KV_F32);
            float[] last = null;
            for (int p = 0; p < tokens.length; p++) last = oneByOne.forward(tokens, p, 1, p, 0);
            assertThat(last).hasSize(lm.model().config().vocab());
            double maxDiff = 0, maxAbs = 0;
            for (int i = 0; i < last.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(last[i] - all[i]));
                maxAbs = Math.max(maxAbs, Math.abs(all[i]));
            }
            System.out.printf("feather-3m Q4_0 llamacpp: token by token vs one batch, max |Δlogit| %.2e (max |logit| %.1f)%n", maxDiff, maxAbs);
            assertThat(maxAbs).isGreaterThan(1);
            assertThat(maxDiff).isLessThan(2e-2 * maxAbs);
            assertThat(argmax(last)).isEqualTo(argmax(all));
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** A rows × cols matrix of seeded N(0, 0.02²) weights quantized by the type's codec. */
    private static MemorySegment matrixBytes(GgmlType type, int rows, int cols, Arena arena) {
        GgufBlockCodec codec = GgufBlockCodecs.of(type);
        long rowBytes = type.rowBytes(cols);
        MemorySegment seg = arena.allocate(rowBytes * rows, 64);
        Random r = new Random(17);
        float[] row = new float[cols];
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < cols; c++) row[c] = (float) (r.nextGaussian() * 0.02);
            codec.quantizeRow(row, 0, cols, seg, i * rowBytes, null);
        }
        return seg;
    }

    private static float[] activations(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * (1 + (i / 32) % 5));
        return x;
    }
}
