package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodec;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;
import dev.featherweight.kernels.quant.gguf.Q8Activations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The integer dots of llama.cpp numerics' one-token products (Q8_0/Q4_0 weights on Q8_0 activations): the activation
 * quants are the values {@link Numerics} rounds to, each dot is the documented order of 16 virtual lanes bit for bit
 * (a scalar model of it here, so this also runs in the vector-128 and vector-avx2 executions of kernels/pom.xml to
 * prove the bits do not depend on the width), and a generated sequence gives the logits of the batched float path up to
 * what llama.cpp's 8-bit activation rounding amplifies (a 1e-6 difference that flips one quant moves the logits by
 * ~1e-2; the tree before the integer dots measured the same 5.3e-2 on this sequence).
 */
class IntegerDotTest {
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void activationQuantsTimesScalesAreWhatNumericsRoundsTo() {
        int n = 3, cols = 512, blockSize = 32;
        float[] x = activations(n * cols, 5);
        for (int j = 0; j < blockSize; j++) x[blockSize + j] = 0; // an all-zero block: scale 0, quants 0
        float[] rounded = new float[n * cols];
        float[] ref = Numerics.roundForWeights("Q4_0", x, n, cols, rounded);
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

    @ParameterizedTest
    @ValueSource(strings = {"Q8_0", "Q4_0"})
    void integerDotIsTheSixteenLaneOrderBitForBitAndCloseToDouble(String typeName) {
        GgmlType type = GgmlType.valueOf(typeName);
        int rows = 37, cols = 320, tokens = 3;
        try (Arena arena = Arena.ofConfined(); Parallel pool = new Parallel(2)) {
            MemorySegment data = matrixBytes(type, rows, cols, arena);
            BlockMatrix w = new BlockMatrix(new Tensor("w", type, new long[]{rows, cols}, data));
            assertThat(w.q8BlockSize()).isEqualTo(32);
            float[] x = activations(tokens * cols, 9);
            Q8Activations q = new Q8Activations();
            q.quantize(32, x, tokens, cols);
            float[] out = new float[tokens * rows];
            w.matmul(q, tokens, out, pool);
            float[] decoded = new float[cols];
            for (int r = 0; r < rows; r++) {
                w.decodeRow(r, decoded, 0);
                for (int t = 0; t < tokens; t++) {
                    float expected = sixteenLanes(type, data, r * type.rowBytes(cols), q, t * cols, cols);
                    assertThat(out[t * rows + r]).as("row %d token %d", r, t).isEqualTo(expected);
                    double exact = 0, scale = 0;
                    for (int i = 0; i < cols; i++) {
                        double xi = (double) q.scale((t * cols + i) / 32) * q.quant(t * cols + i);
                        exact += decoded[i] * xi;
                        scale += Math.abs(decoded[i] * xi);
                    }
                    assertThat((double) out[t * rows + r]).isCloseTo(exact, within(1e-6 * scale + 1e-30));
                }
            }
        }
    }

    @Test
    void mismatchedActivationsAreRefused() {
        assertThatThrownBy(() -> new Q8Activations().quantize(256, new float[256], 1, 256)).isInstanceOf(IllegalArgumentException.class);
        try (Arena arena = Arena.ofConfined(); Parallel pool = new Parallel(1)) {
            BlockMatrix w = new BlockMatrix(new Tensor("w", GgmlType.Q8_0, new long[]{4, 64}, matrixBytes(GgmlType.Q8_0, 4, 64, arena)));
            Q8Activations q = new Q8Activations();
            q.quantize(32, new float[96], 1, 96);
            assertThatThrownBy(() -> w.matmul(q, 1, new float[4], pool))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32-blocks of 64");
        }
    }

    /** feather-3m as Q4_0 (every row a multiple of 32, so every product is an integer dot when generating). */
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
            System.out.printf("feather-3m Q4_0 llamacpp: one-token integer dots vs batched float tiles, max |Δlogit| %.2e (max |logit| %.1f)%n", maxDiff, maxAbs);
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

    /** The documented order, in scalar Java: lane v of a block = w[v]·x[v] + w[v+16]·x[v+16]; lane += float(int)·(d_w·d_x). */
    private static float sixteenLanes(GgmlType type, MemorySegment data, long rowOff, Q8Activations q, int xOff, int cols) {
        float[] lane = new float[16];
        for (int b = 0; b < cols / 32; b++) {
            long o = rowOff + (long) b * type.typeSize;
            float dd = Float.float16ToFloat(data.get(LE_SHORT, o)) * q.scale((xOff + 32 * b) / 32);
            for (int v = 0; v < 16; v++) {
                int w0, w1;
                if (type == GgmlType.Q8_0) {
                    w0 = data.get(ValueLayout.JAVA_BYTE, o + 2 + v);
                    w1 = data.get(ValueLayout.JAVA_BYTE, o + 2 + 16 + v);
                } else {
                    int nibbles = data.get(ValueLayout.JAVA_BYTE, o + 2 + v) & 0xFF;
                    w0 = (nibbles & 0xF) - 8;
                    w1 = (nibbles >> 4) - 8;
                }
                int p = w0 * q.quant(xOff + 32 * b + v) + w1 * q.quant(xOff + 32 * b + 16 + v);
                lane[v] = Math.fma((float) p, dd, lane[v]);
            }
        }
        float s = 0;
        for (float l : lane) s += l;
        return s;
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
