package dev.featherweight.kernels.quant;

/**
 * Bit packing of integer codes into int32 words, as the GPU kernels read them.
 *
 * <p><b>GPTQ</b> (AutoGPTQ/GPTQModel {@code QuantLinear.pack}, nn_modules/qlinear/__init__.py): codes are a
 * little-endian bit stream — value k of a run at bits k·b … k·b+b−1, words low to high. qweight packs the
 * input dimension (32/b inputs per word for b = 2, 4, 8; for b = 3, 32 inputs in 3 words, value 10 and 21
 * straddling words exactly as the reference's shift-by-30/31 code does), one column per output feature:
 * shape [in·b/32, out]. qzeros packs the output dimension: shape [groups, out·b/32].
 *
 * <p><b>AWQ gemm</b> (AutoAWQ awq/modules/linear/gemm.py {@code WQLinear_GEMM.from_linear}): 4-bit only, packs the
 * <em>output</em> dimension eight to a word in the interleaved order AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]:
 * nibble i of word j holds output column 8j + AWQ_ORDER[i]. qweight [in, out/8], qzeros [groups, out/8].
 *
 * <p><b>compressed-tensors</b> {@code pack_to_int32} (compressors/quantized_compressors/pack_quantized.py): signed codes
 * are made unsigned by adding 2^(b−1) (for our codes, which already are unsigned with the symmetric zero point at
 * 2^(b−1), that is the code itself), then 32/b values to a word along one dimension, value i of a word at bits
 * b·i … b·i+b−1; a short last word is zero-padded. weight_packed packs along the input dimension ([out, ⌈in·b/32⌉]),
 * weight_zero_point along the output dimension ([⌈out·b/32⌉, groups]).
 */
public final class Packing {
    private Packing() {
    }

    public static final int[] AWQ_ORDER = {0, 2, 4, 6, 1, 3, 5, 7};

    /** Whether a run of n codes of b bits fills whole int32 words. */
    public static boolean packable(int n, int bits) {
        return ((long) n * bits) % 32 == 0;
    }

    /** Writes code v (b bits) at stream position k of the run starting at word base (stride between words). */
    private static void put(int[] words, int base, int stride, int k, int bits, int v) {
        long bit = (long) k * bits;
        int word = (int) (bit >>> 5), shift = (int) (bit & 31);
        words[base + word * stride] |= v << shift;
        if (shift + bits > 32) words[base + (word + 1) * stride] |= v >>> (32 - shift);
    }

    private static int get(int[] words, int base, int stride, int k, int bits) {
        long bit = (long) k * bits;
        int word = (int) (bit >>> 5), shift = (int) (bit & 31);
        int mask = (1 << bits) - 1;
        int v = words[base + word * stride] >>> shift;
        if (shift + bits > 32) v |= words[base + (word + 1) * stride] << (32 - shift);
        return v & mask;
    }

    /** GPTQ qweight [in·b/32, out] (row-major) from codes [out][in]. */
    public static int[] gptqQweight(QuantizedLinear q) {
        int out = q.rows(), in = q.cols(), b = q.bits();
        if (!packable(in, b)) throw new IllegalArgumentException(in + " input features × " + b + " bits do not fill int32 words");
        int[] words = new int[in * b / 32 * out];
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) put(words, o, out, i, b, q.code(o, i));
        return words;
    }

    /** Codes [out][in] from a GPTQ qweight. */
    public static byte[] gptqUnpackQweight(int[] words, int out, int in, int bits) {
        byte[] codes = new byte[out * in];
        for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) codes[o * in + i] = (byte) get(words, o, out, i, bits);
        return codes;
    }

    /**
     * GPTQ qzeros [groups, out·b/32]. {@code v2 = false} is the classic format, which stores zero − 1 (the
     * reference kernels add the 1 back): a zero of 0 would wrap to 2^b − 1, so it is refused here.
     */
    public static int[] gptqQzeros(QuantizedLinear q, boolean v2) {
        int out = q.rows(), b = q.bits(), groups = q.groups();
        if (!packable(out, b)) throw new IllegalArgumentException(out + " output features × " + b + " bits do not fill int32 words");
        int per = out * b / 32, mask = (1 << b) - 1;
        int[] words = new int[groups * per];
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < out; o++) {
                int z = q.zeros()[g * q.rows() + o];
                if (!v2 && z < 1) {
                    throw new IllegalArgumentException("zero point 0 (group " + g + ", output " + o + ") cannot be stored in the classic GPTQ format (zero − 1 would wrap); quantize with zero points ≥ 1 or write gptq_v2");
                }
                put(words, g * per, 1, o, b, (v2 ? z : z - 1) & mask);
            }
        }
        return words;
    }

    /** Zero points [groups][out] from GPTQ qzeros (adds the 1 back for the classic format). */
    public static int[] gptqUnpackQzeros(int[] words, int groups, int out, int bits, boolean v2) {
        int per = out * bits / 32, mask = (1 << bits) - 1;
        int[] z = new int[groups * out];
        for (int g = 0; g < groups; g++) {
            for (int o = 0; o < out; o++) {
                int v = get(words, g * per, 1, o, bits);
                z[g * out + o] = v2 ? v : (v + 1) & mask;
            }
        }
        return z;
    }

    /** AWQ gemm qweight [in, out/8] from codes [out][in]. */
    /** compressed-tensors' pack_to_int32 of rows × cols unsigned values along dim 1 (packedRows false) or dim 0. */
    public static int[] compressedTensorsPack(int[] v, int rows, int cols, int bits, boolean alongRows) {
        int pf = 32 / bits;
        int pr = alongRows ? (rows + pf - 1) / pf : rows, pc = alongRows ? cols : (cols + pf - 1) / pf;
        int[] words = new int[pr * pc];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int word = alongRows ? (r / pf) * pc + c : r * pc + c / pf;
                int i = alongRows ? r % pf : c % pf;
                words[word] |= v[r * cols + c] << (bits * i);
            }
        }
        return words;
    }

    /** The inverse of {@link #compressedTensorsPack} (unsigned values, padding dropped). */
    public static int[] compressedTensorsUnpack(int[] words, int rows, int cols, int bits, boolean alongRows) {
        int pf = 32 / bits, mask = (1 << bits) - 1;
        int pc = alongRows ? cols : (cols + pf - 1) / pf;
        int[] v = new int[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int word = alongRows ? (r / pf) * pc + c : r * pc + c / pf;
                int i = alongRows ? r % pf : c % pf;
                v[r * cols + c] = (words[word] >>> (bits * i)) & mask;
            }
        }
        return v;
    }

    public static int[] awqQweight(QuantizedLinear q) {
        int out = q.rows(), in = q.cols();
        checkAwq(q);
        int per = out / 8;
        int[] words = new int[in * per];
        for (int i = 0; i < in; i++) {
            for (int j = 0; j < per; j++) {
                int w = 0;
                for (int k = 0; k < 8; k++) w |= q.code(j * 8 + AWQ_ORDER[k], i) << (4 * k);
                words[i * per + j] = w;
            }
        }
        return words;
    }

    /** AWQ gemm qzeros [groups, out/8]. AWQ stores the zero point itself. */
    public static int[] awqQzeros(QuantizedLinear q) {
        checkAwq(q);
        int out = q.rows(), per = out / 8, groups = q.groups();
        int[] words = new int[groups * per];
        for (int g = 0; g < groups; g++) {
            for (int j = 0; j < per; j++) {
                int w = 0;
                for (int k = 0; k < 8; k++) w |= q.zeros()[g * out + j * 8 + AWQ_ORDER[k]] << (4 * k);
                words[g * per + j] = w;
            }
        }
        return words;
    }

    /** Values [rows][cols] (row-major) from an AWQ-packed [rows, cols/8] int32 array. */
    public static int[] awqUnpack(int[] words, int rows, int cols) {
        int per = cols / 8;
        int[] v = new int[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < per; j++) {
                int w = words[r * per + j];
                for (int k = 0; k < 8; k++) v[r * cols + j * 8 + AWQ_ORDER[k]] = (w >>> (4 * k)) & 0xF;
            }
        }
        return v;
    }

    private static void checkAwq(QuantizedLinear q) {
        if (q.bits() != 4) throw new IllegalArgumentException("AWQ gemm packs 4-bit codes only, got " + q.bits());
        if (q.rows() % 8 != 0) throw new IllegalArgumentException(q.rows() + " output features are not a multiple of 8 (AWQ packs 8 per int32)");
    }
}
