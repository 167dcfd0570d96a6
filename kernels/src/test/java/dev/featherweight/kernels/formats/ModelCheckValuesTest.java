package dev.featherweight.kernels.formats;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The value scan that refuses NaN/Inf weights: every element position inside and after the 8-byte words, every kind of non-finite value. */
class ModelCheckValuesTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void f32FindsTheFirstNonFiniteAtEveryPosition() {
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0xFF800001)};
        try (Arena arena = Arena.ofConfined()) {
            for (int n = 1; n <= 11; n++) {
                // one byte of offset: the mapped tensors of a GGUF file need not be aligned
                MemorySegment seg = arena.allocate(4L * n + 1).asSlice(1);
                for (int i = 0; i < n; i++) seg.set(F32, 4L * i, i % 2 == 0 ? -Float.MAX_VALUE : Float.MIN_VALUE);
                assertEquals(-1, ModelCheck.firstNonFinite32(seg), "finite, n=" + n);
                for (int at = 0; at < n; at++) {
                    for (float b : bad) {
                        seg.set(F32, 4L * at, b);
                        if (at + 1 < n) seg.set(F32, 4L * (at + 1), Float.NaN); // a later one never wins
                        assertEquals(at, ModelCheck.firstNonFinite32(seg), "n=" + n + " at=" + at + " " + b);
                        seg.set(F32, 4L * at, 1e30f);
                        if (at + 1 < n) seg.set(F32, 4L * (at + 1), 1e30f);
                    }
                }
            }
        }
    }

    @Test
    void halfAndBfloatExponentsAreTestedPerElement() {
        try (Arena arena = Arena.ofConfined()) {
            int n = 9;
            MemorySegment seg = arena.allocate(2L * n);
            // largest finite f16 (0x7BFF), and a bf16 pattern whose f16 exponent is all ones (0x7C00 is finite in bf16)
            for (int i = 0; i < n; i++) seg.set(I16, 2L * i, (short) 0x7BFF);
            assertEquals(-1, ModelCheck.firstNonFinite16(seg, (short) 0x7C00));
            for (int at = 0; at < n; at++) {
                seg.set(I16, 2L * at, (short) 0xFC00); // f16 -inf
                assertEquals(at, ModelCheck.firstNonFinite16(seg, (short) 0x7C00), "f16 at " + at);
                seg.set(I16, 2L * at, (short) 0x7C01);
                assertEquals(-1, ModelCheck.firstNonFinite16(seg, (short) 0x7F80), "0x7C01 is a finite bf16");
                seg.set(I16, 2L * at, (short) 0xFF81); // bf16 NaN
                assertEquals(at, ModelCheck.firstNonFinite16(seg, (short) 0x7F80), "bf16 at " + at);
                seg.set(I16, 2L * at, (short) 0x7BFF);
            }
        }
    }

    @Test
    void aScanSplitOverThePoolReportsTheEarliestPiece() {
        long n = (3L << 20) + 5; // four pieces of the parallel scan
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(4 * n);
            assertEquals(-1, ModelCheck.firstNonFinite(seg, 4, ModelCheck::firstNonFinite32));
            seg.set(F32, 4 * (n - 1), Float.NaN);
            assertEquals(n - 1, ModelCheck.firstNonFinite(seg, 4, ModelCheck::firstNonFinite32));
            long early = (1L << 20) + 7;
            seg.set(F32, 4 * early, Float.NEGATIVE_INFINITY);
            assertEquals(early, ModelCheck.firstNonFinite(seg, 4, ModelCheck::firstNonFinite32));
        }
    }
}
