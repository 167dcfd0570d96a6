package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.quant.gguf.Q8Activations;

import java.util.Locale;

/**
 * How a forward pass rounds intermediate values. {@link #FP32}: float32 activations and KV cache everywhere
 * (the reference). The llama.cpp modes reproduce what llama.cpp's CPU backend does, so perplexities of GGUF
 * files agree with llama-perplexity to a few 1e-5 instead of a few 1e-3:
 * <ul>
 *   <li>{@code roundActivations}: each matmul input is first rounded to the weight type's {@code vec_dot_type}
 *   (ggml-cpu type traits): F16 weights → fp16 activations, BF16 → bf16, Q4_0/Q5_0/Q8_0/IQ4_NL and
 *   Q4_1/Q5_1 → 8-bit blocks of 32 with an fp16 scale (Q8_0/Q8_1), Q2_K…Q6_K, IQ4_XS, IQ3_XXS, IQ3_S, TQ1_0 and TQ2_0 → 8-bit blocks of 256 with a
 *   float scale (Q8_K); F32 weights keep f32 activations.</li>
 *   <li>{@code kvF16}: llama.cpp's default f16 KV cache: K and V stored as fp16, the queries and the softmax
 *   probabilities rounded to fp16 for the two attention products ({@code -ctk f32 -ctv f32} turns it off).</li>
 *   <li>{@code simdLanes} (0, 8 or 16): the float forward pass in the order of ggml's CPU backend built for vectors of
 *   that many floats — 16 = AVX-512 (the machine of ../shared's references), 8 = AVX2 — whatever this CPU's width:
 *   F32/F16 matmuls, K·q and P·V as tinyBLAS chains and horizontal sums, soft_max, rms_norm, the rope cache and silu
 *   as ggml computes them ({@link GgmlCpuMath}). 0 keeps this project's own width-independent order (fp32).</li>
 * </ul>
 */
public record Numerics(boolean roundActivations, boolean kvF16, int simdLanes) {
    public static final Numerics FP32 = new Numerics(false, false, 0);
    /** llama.cpp CPU backend (AVX-512 build) with {@code -ctk f32 -ctv f32}. */
    public static final Numerics LLAMACPP_KV_F32 = new Numerics(true, false, 16);
    /** llama.cpp CPU backend (AVX-512 build) with its default f16 KV cache. */
    public static final Numerics LLAMACPP_KV_F16 = new Numerics(true, true, 16);
    /** llama.cpp CPU backend built for AVX2 (8-float vectors), f16 KV cache: what a llama.cpp build on this kind of CPU computes. */
    public static final Numerics LLAMACPP_KV_F16_AVX2 = new Numerics(true, true, 8);

    public Numerics {
        if (simdLanes != 0 && simdLanes != 8 && simdLanes != 16) throw new IllegalArgumentException("simdLanes must be 0, 8 or 16, got " + simdLanes);
    }

    /**
     * "fp32", "llamacpp" (kv f32) or "llamacpp-kvf16", the llama.cpp modes optionally suffixed "-avx2" (8-float vectors)
     * or "-avx512" (16, the default).
     */
    public static Numerics parse(String s) {
        String name = s.toLowerCase(Locale.ROOT);
        int lanes = 16;
        if (name.endsWith("-avx2")) {
            lanes = 8;
            name = name.substring(0, name.length() - 5);
        } else if (name.endsWith("-avx512")) {
            name = name.substring(0, name.length() - 7);
        }
        Numerics n = switch (name) {
            case "fp32" -> FP32;
            case "llamacpp", "llamacpp-kvf32" -> LLAMACPP_KV_F32;
            case "llamacpp-kvf16" -> LLAMACPP_KV_F16;
            default -> throw new IllegalArgumentException("numerics must be fp32, llamacpp or llamacpp-kvf16 (optionally -avx2 / -avx512), got " + s);
        };
        if (n == FP32) {
            if (!name.equals(s.toLowerCase(Locale.ROOT))) throw new IllegalArgumentException("fp32 has no SIMD variant: " + s);
            return FP32;
        }
        return n.withSimdLanes(lanes);
    }

    /** The same rounding computed in the order of ggml built for {@code lanes}-float vectors (0: this project's own order). */
    public Numerics withSimdLanes(int lanes) {
        return lanes == simdLanes ? this : new Numerics(roundActivations, kvF16, lanes);
    }

    public String label() {
        String base = !roundActivations && !kvF16 ? "fp32" : roundActivations && !kvF16 ? "llamacpp" : roundActivations ? "llamacpp-kvf16" : "fp32-kvf16";
        return simdLanes == 8 ? base + "-avx2" : base;
    }

    static float f16(float x) {
        return Float.float16ToFloat(Float.floatToFloat16(x));
    }

    /** ggml's fp32 → bf16 (round to nearest even; NaN kept quiet) and back. */
    static float bf16(float x) {
        int u = Float.floatToRawIntBits(x);
        if ((u & 0x7fffffff) > 0x7f800000) return Float.intBitsToFloat((u | 0x00400000) & 0xffff0000);
        return Float.intBitsToFloat(((u + (0x7fff + ((u >>> 16) & 1))) >>> 16) << 16);
    }

    /**
     * Rounds n rows of cols activations, as llama.cpp converts a matmul's src1 to the weight's vec_dot_type,
     * into out (x unchanged). Returns x itself when the weight format keeps f32 activations.
     */
    static float[] roundForWeights(String weightFormat, float[] x, int n, int cols, float[] out) {
        switch (weightFormat) {
            case "F16" -> {
                for (int i = 0; i < n * cols; i++) out[i] = f16(x[i]);
            }
            case "BF16" -> {
                for (int i = 0; i < n * cols; i++) out[i] = bf16(x[i]);
            }
            case "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL" -> {
                if (cols % 32 != 0) return x;
                for (int b = 0; b < n * cols; b += 32) q8_0(x, b, out);
            }
            case "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_XS", "IQ3_XXS", "IQ3_S", "TQ1_0", "TQ2_0" -> {
                if (cols % 256 != 0) return x;
                for (int b = 0; b < n * cols; b += 256) q8_K(x, b, out);
            }
            default -> {
                return x;
            }
        }
        return out;
    }

    /** quantize_row_q8_0 (x86 SIMD path: id = 127/amax, round half to even) then dequantize: fp16(d)·q. */
    private static void q8_0(float[] x, int o, float[] out) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[o + j]));
        float d = f16(amax / 127.f);
        float id = amax != 0 ? 127.f / amax : 0;
        for (int j = 0; j < 32; j++) out[o + j] = d * (float) Math.rint(x[o + j] * id);
    }

    /** quantize_row_q8_K_ref (iscale = −127/max of largest |x|, nearest int, ≤ 127) then dequantize: d·q with d = 1/iscale. */
    private static void q8_K(float[] x, int o, float[] out) {
        float max = Q8Activations.firstLargestMagnitude(x, o, 256);
        if (max == 0) {
            for (int j = 0; j < 256; j++) out[o + j] = 0;
            return;
        }
        float iscale = -127.f / max;
        float d = 1 / iscale;
        for (int j = 0; j < 256; j++) {
            int q = (int) Math.rint(iscale * x[o + j]);
            out[o + j] = d * Math.min(127, q);
        }
    }
}
