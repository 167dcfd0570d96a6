package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.HalfFloats;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Parallel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * The table of GGUF block codecs (the Java counterpart of ggml's type traits: one entry per type, data
 * not a switch), plus the row-parallel quantization loop and the checks llama-quantize applies around
 * {@code ggml_quantize_chunk}.
 */
public final class GgufBlockCodecs {
    private GgufBlockCodecs() {
    }

    /**
     * How to make the codec of every type Featherweight quantizes, decodes and multiplies: what a type can do is its
     * codec. A codec is made on first use: the IQ codecs' classes build their grids' neighbour tables when loaded
     * (about a second of a cold process), which a Q4_0 or Q4_K_M run never needs.
     */
    private static final Map<GgmlType, Supplier<GgufBlockCodec>> FACTORIES = new EnumMap<>(GgmlType.class);
    /** The codecs made so far, by {@link GgmlType#ordinal()}. */
    private static final AtomicReferenceArray<GgufBlockCodec> MADE = new AtomicReferenceArray<>(GgmlType.values().length);

    static {
        FACTORIES.put(GgmlType.F32, F32Codec::new);
        FACTORIES.put(GgmlType.F16, F16Codec::new);
        FACTORIES.put(GgmlType.BF16, Bf16Codec::new);
        FACTORIES.put(GgmlType.Q8_0, Q8_0Codec::new);
        FACTORIES.put(GgmlType.Q4_0, Q4_0Codec::new);
        FACTORIES.put(GgmlType.Q4_1, Q4_1Codec::new);
        FACTORIES.put(GgmlType.Q5_0, Q5_0Codec::new);
        FACTORIES.put(GgmlType.Q5_1, Q5_1Codec::new);
        FACTORIES.put(GgmlType.Q2_K, Q2_KCodec::new);
        FACTORIES.put(GgmlType.Q3_K, Q3_KCodec::new);
        FACTORIES.put(GgmlType.Q4_K, Q4_KCodec::new);
        FACTORIES.put(GgmlType.Q5_K, Q5_KCodec::new);
        FACTORIES.put(GgmlType.Q6_K, Q6_KCodec::new);
        FACTORIES.put(GgmlType.Q8_K, Q8_KCodec::new);
        FACTORIES.put(GgmlType.IQ4_NL, IQ4_NLCodec::new);
        FACTORIES.put(GgmlType.IQ4_XS, IQ4_XSCodec::new);
        FACTORIES.put(GgmlType.IQ3_XXS, IQ3_XXSCodec::new);
        FACTORIES.put(GgmlType.IQ3_S, IQ3_SCodec::new);
        FACTORIES.put(GgmlType.TQ1_0, TQ1_0Codec::new);
        FACTORIES.put(GgmlType.TQ2_0, TQ2_0Codec::new);
        FACTORIES.put(GgmlType.IQ2_XXS, IQ2_XXSCodec::new);
        FACTORIES.put(GgmlType.IQ2_XS, IQ2_XSCodec::new);
        FACTORIES.put(GgmlType.IQ2_S, IQ2_SCodec::new);
        FACTORIES.put(GgmlType.IQ1_S, IQ1_SCodec::new);
        FACTORIES.put(GgmlType.IQ1_M, IQ1_MCodec::new);
    }

    /** The codec of a type; an IllegalArgumentException naming the supported types when there is none. */
    public static GgufBlockCodec of(GgmlType type) {
        GgufBlockCodec c = MADE.get(type.ordinal());
        if (c != null) return c;
        Supplier<GgufBlockCodec> factory = FACTORIES.get(type);
        if (factory == null) {
            throw new IllegalArgumentException("no GGUF block codec for " + type + "; supported: " + FACTORIES.keySet());
        }
        c = factory.get();
        if (c.type() != type) throw new IllegalStateException("the codec made for " + type + " is " + c.type() + "'s");
        // two threads may both make one: codecs are stateless, the first one stored is kept
        return MADE.compareAndSet(type.ordinal(), null, c) ? c : MADE.get(type.ordinal());
    }

    /** Types with a codec. */
    public static Set<GgmlType> supported() {
        return Collections.unmodifiableSet(FACTORIES.keySet());
    }

    /**
     * {@code ggml_quantize_requires_imatrix}: true only for IQ2_XXS (16), IQ2_XS (17) and IQ1_S (19); their
     * codecs throw {@link ImportanceMatrixRequiredException} without one.
     */
    public static boolean requiresImatrix(int ggmlTypeId) {
        return ggmlTypeId == 16 || ggmlTypeId == 17 || ggmlTypeId == 19;
    }

    public static boolean requiresImatrix(GgmlType type) {
        return requiresImatrix(type.id);
    }

    /**
     * {@code ggml_validate_row_data}: the checks llama-quantize runs on every quantized chunk before
     * writing it. The byte count must be whole blocks; F32/F16/BF16 values and the fp16 block scales
     * (f32 for Q8_K) must be finite.
     *
     * @throws InvalidBlockDataException naming the block (element) and the problem
     */
    public static void validateRowData(GgmlType type, MemorySegment data, long offset, long nbytes) {
        if (nbytes % type.typeSize != 0) {
            throw new InvalidBlockDataException(type, -1, "invalid size " + nbytes + " (type size = " + type.typeSize + ")");
        }
        long blocks = nbytes / type.typeSize;
        switch (type) {
            case F32, Q8_K -> {
                long stride = type.typeSize;
                for (long i = 0; i < blocks; i++) {
                    float v = data.get(F32_LE, offset + i * stride);
                    if (Float.isNaN(v)) throw new InvalidBlockDataException(type, i, "found nan value");
                    if (Float.isInfinite(v)) throw new InvalidBlockDataException(type, i, "found inf value");
                }
            }
            case F16 -> {
                for (long i = 0; i < blocks; i++) checkFp16(type, i, data.get(I16_LE, offset + 2 * i));
            }
            case BF16 -> {
                for (long i = 0; i < blocks; i++) {
                    float v = HalfFloats.bf16ToFp32(data.get(I16_LE, offset + 2 * i));
                    if (Float.isNaN(v)) throw new InvalidBlockDataException(type, i, "found nan value");
                    if (Float.isInfinite(v)) throw new InvalidBlockDataException(type, i, "found inf value");
                }
            }
            case IQ1_M -> {
                // block_iq1_m has no d field: its fp16 super-scale is the top nibbles of the four scale words
                for (long i = 0; i < blocks; i++) {
                    long b = offset + i * type.typeSize + 48;
                    int bits = (data.get(I16_LE, b) & 0xFFFF) >> 12 | (data.get(I16_LE, b + 2) & 0xFFFF) >> 8 & 0x00f0
                            | (data.get(I16_LE, b + 4) & 0xFFFF) >> 4 & 0x0f00 | data.get(I16_LE, b + 6) & 0xf000;
                    checkFp16(type, i, (short) bits);
                }
            }
            default -> {
                int[] scaleOffsets = of(type).fp16ScaleOffsets();
                for (long i = 0; i < blocks; i++) {
                    for (int off : scaleOffsets) {
                        checkFp16(type, i, data.get(I16_LE, offset + i * type.typeSize + off));
                    }
                }
            }
        }
    }

    /** The fp16 scales of one block as text (for failure messages: which scale went wrong). */
    static String describeScales(GgmlType type, byte[] block) {
        if (!FACTORIES.containsKey(type)) return "-";
        GgufBlockCodec c = of(type);
        if (c.fp16ScaleOffsets().length == 0) return "-";
        StringBuilder sb = new StringBuilder();
        for (int off : c.fp16ScaleOffsets()) {
            short h = (short) ((block[off] & 0xFF) | (block[off + 1] << 8));
            sb.append(sb.isEmpty() ? "" : ", ").append("@").append(off).append('=').append(HalfFloats.fp16ToFp32(h))
                    .append(String.format(" (0x%04x)", h & 0xFFFF));
        }
        return sb.toString();
    }

    private static void checkFp16(GgmlType type, long block, short h) {
        if ((h & 0x7c00) == 0x7c00) {
            throw new InvalidBlockDataException(type, block, (h & 0x03ff) != 0 ? "found nan value" : "found inf value");
        }
    }

    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Quantizes {@code rows} rows of {@code n} little-endian F32 weights starting at {@code srcOff} of
     * {@code src} into {@code dst} at {@code dstOff} (rows × rowBytes(n) bytes), with {@code threads}
     * threads each taking a contiguous range of rows. Every row is quantized on its own, so the bytes do
     * not depend on the thread count. Memory: one row buffer per thread. Segments of a confined arena
     * can only be touched by their owner thread; with them the work runs on the calling thread.
     *
     * @param importance per-column importance (n values, shared by all rows, as llama-quantize passes a
     *                   2-D tensor's imatrix entry) or null
     */
    public static void quantizeRows(GgufBlockCodec codec, MemorySegment src, long srcOff, long rows, int n,
                                    MemorySegment dst, long dstOff, float[] importance, int threads) {
        long rowBytes = codec.rowBytes(n);
        int t = (int) Math.max(1, Math.min(threads, rows));
        if (!sharedAcrossThreads(src) || !sharedAcrossThreads(dst)) t = 1;
        RowRange body = (from, to) -> {
            float[] row = new float[n];
            for (long r = from; r < to; r++) {
                MemorySegment.copy(src, F32_LE, srcOff + r * n * 4L, row, 0, n);
                codec.quantizeRow(row, 0, n, dst, dstOff + r * rowBytes, importance);
            }
        };
        runSplit(rows, t, body);
    }

    /**
     * Requantization: like {@link #quantizeRows(GgufBlockCodec, MemorySegment, long, long, int, MemorySegment, long, float[], int)}
     * but the source rows are stored as {@code srcType} (F32, F16, BF16 or any type with a codec) and are
     * first decoded to float as llama-quantize does (ggml's to_float: exact for F16/BF16).
     */
    public static void quantizeRows(GgufBlockCodec codec, GgmlType srcType, MemorySegment src, long srcOff, long rows, int n,
                                    MemorySegment dst, long dstOff, float[] importance, int threads) {
        if (srcType == GgmlType.F32) {
            quantizeRows(codec, src, srcOff, rows, n, dst, dstOff, importance, threads);
            return;
        }
        GgufBlockCodec decoder = of(srcType);
        long srcRowBytes = decoder.rowBytes(n);
        long rowBytes = codec.rowBytes(n);
        int t = (int) Math.max(1, Math.min(threads, rows));
        if (!sharedAcrossThreads(src) || !sharedAcrossThreads(dst)) t = 1;
        runSplit(rows, t, (from, to) -> {
            float[] row = new float[n];
            for (long r = from; r < to; r++) {
                decoder.dequantizeRow(src, srcOff + r * srcRowBytes, row, 0, n);
                codec.quantizeRow(row, 0, n, dst, dstOff + r * rowBytes, importance);
            }
        });
    }

    /** Hands out row {@code row} of a source as floats into {@code dst[0 .. n)}; called from several threads at once. */
    @FunctionalInterface
    public interface RowSource {
        void read(long row, float[] dst);
    }

    /**
     * The same for rows read one at a time from {@code src} (a converter's un-permuting, dtype-converting reader):
     * each thread reads and quantizes its own rows, so the copies run in parallel and no tensor-sized buffer exists.
     */
    public static void quantizeRows(GgufBlockCodec codec, RowSource src, long rows, int n, MemorySegment dst, long dstOff,
                                    float[] importance, int threads) {
        long rowBytes = codec.rowBytes(n);
        int t = (int) Math.max(1, Math.min(threads, rows));
        if (!sharedAcrossThreads(dst)) t = 1;
        runSplit(rows, t, (from, to) -> {
            float[] row = new float[n];
            for (long r = from; r < to; r++) {
                src.read(r, row);
                codec.quantizeRow(row, 0, n, dst, dstOff + r * rowBytes, importance);
            }
        });
    }

    /** The same for rows already on the heap: {@code src[srcOff + r·n ..]} for r in [0, rows). */
    public static void quantizeRows(GgufBlockCodec codec, float[] src, int srcOff, int rows, int n,
                                    MemorySegment dst, long dstOff, float[] importance, int threads) {
        long rowBytes = codec.rowBytes(n);
        int t = Math.max(1, Math.min(threads, rows));
        if (!sharedAcrossThreads(dst)) t = 1;
        runSplit(rows, t, (from, to) -> {
            for (long r = from; r < to; r++) {
                codec.quantizeRow(src, srcOff + (int) r * n, n, dst, dstOff + r * rowBytes, importance);
            }
        });
    }

    /** A confined segment (Arena.ofConfined) can only be used by its owner: such calls run on the calling thread. */
    private static boolean sharedAcrossThreads(MemorySegment s) {
        return s.isAccessibleBy(PROBE);
    }

    private static final Thread PROBE = Thread.ofPlatform().unstarted(() -> { });

    @FunctionalInterface
    private interface RowRange {
        void run(long from, long to);
    }

    /**
     * Runs body over [0, rows) on the shared persistent pool ({@link Parallel#shared}: no thread is started per call)
     * with at most {@code threads} rows in flight at once. When the pool is no larger than asked for, the rows are cut
     * into 8 ranges per thread handed out dynamically, so a thread the (shared, loaded) machine descheduled does not
     * hold the others back; rows are independent, so the bytes are the same on any split.
     */
    private static void runSplit(long rows, int threads, RowRange body) {
        Parallel pool = Parallel.shared();
        if (threads <= 1 || rows <= 1) {
            body.run(0, rows);
            return;
        }
        int tasks = (int) Math.min(rows, threads >= pool.threads() ? 8L * threads : threads);
        pool.forEach(tasks, i -> body.run(rows * i / tasks, rows * (i + 1) / tasks));
    }
}
