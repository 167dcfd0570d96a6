package dev.featherweight.kernels.infer;

/**
 * The element-wise functions of ggml's CPU backend (llama.cpp c392e50), bit for bit, for {@link Numerics#simdLanes()}
 * 8 (AVX2 build) or 16 (AVX-512 build): each is a per-lane function, so computing it one float at a time gives the
 * vector code's bits. Ported from the numerics of ggml-cpu.c and glibc's sinf/cosf (their FMA variants, which
 * both x86 builds select at run time), not from their code.
 */
final class GgmlCpuMath {
    private GgmlCpuMath() {
    }

    /**
     * ggml_v_expf of one lane (ARM's optimized-routines expf: x = n·ln2 + b with n = round(x/ln2) by the 1.5·2²³
     * trick, ln2 in two parts, a degree-5 polynomial in b). The two builds differ in the last steps: AVX2 forms
     * 2ⁿ in the exponent bits and finishes k + k·j with one FMA (1 + poly folded into it), AVX-512 adds the 1 inside
     * the polynomial and scales by 2ⁿ with scalef; large |n| take their overflow / underflow branches.
     */
    static float expf(float x, int lanes) {
        float z = Math.fma(x, 0x1.715476p+0f, 0x1.8p23f);
        float n = z - 0x1.8p23f;
        float b = Math.fma(-n, 0x1.7f7d1cp-20f, Math.fma(-n, 0x1.62e4p-1f, x));
        float u = b * b;
        float p = Math.fma(Math.fma(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, Math.fma(0x1.555e66p-3f, b, 0x1.fffdb6p-2f));
        if (lanes == 16) {
            float j = Math.fma(p, u, Math.fma(0x1.ffffecp-1f, b, 1.0f));
            if (Math.abs(n) > 192) return n <= 0 ? 0f : Float.POSITIVE_INFINITY;
            return Math.scalb(j, (int) n); // scalef: j·2ⁿ rounded once (n is an integer here)
        }
        float j = Math.fma(p, u, 0x1.ffffecp-1f * b);
        int e = Float.floatToRawIntBits(z) << 23;
        float k = Float.intBitsToFloat(e + Float.floatToRawIntBits(1.0f));
        if (!(Math.abs(n) > 126)) return Math.fma(j, k, k);
        int g = n <= 0 ? 0x82000000 : 0;
        float s1 = Float.intBitsToFloat(g + 0x7f000000);
        float s2 = Float.intBitsToFloat(e - g);
        if (Math.abs(n) > 192) return s1 * s1;
        return Math.fma(s2, j, s2) * s1;
    }

    /** ggml_v_silu of one lane: x / (1 + expf(−x)). */
    static float silu(float x, int lanes) {
        return x / (1.0f + expf(-x, lanes));
    }

    /** ggml_silu_f32, the scalar tail of a row whose length is not a multiple of the vector (libm expf: Math.exp rounded). */
    static float siluScalar(float x) {
        return x / (1.0f + (float) Math.exp(-x));
    }

    // glibc's single-precision sine/cosine (sysdeps/ieee754/flt-32, from ARM's optimized-routines): the argument is
    // reduced in double and a polynomial evaluated in double, contracted into FMAs as the FMA variant is compiled.
    // Not correctly rounded (~1.3 % of the rope angles differ from Math.cos/Math.sin rounded to float).
    /** Coefficients: c0 (±1), c1 … c4 of cos, s1 … s3 of sin; the second row computes −cos (negation for free). */
    private static final double[][] SINCOS = {
            {1.0, -0x1.ffffffd0c621cp-2, 0x1.55553e1068f19p-5, -0x1.6c087e89a359dp-10, 0x1.99343027bf8c3p-16,
                    -0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13},
            {-1.0, 0x1.ffffffd0c621cp-2, -0x1.55553e1068f19p-5, 0x1.6c087e89a359dp-10, -0x1.99343027bf8c3p-16,
                    -0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13}};
    private static final double[] QUADRANT_SIGN = {1, -1, -1, 1};
    /** 4/π to 192 bits, 8 new bits per entry (glibc's __inv_pio4). */
    private static final long[] INV_PIO4 = {0xa2L, 0xa2f9L, 0xa2f983L, 0xa2f9836eL, 0xf9836e4eL, 0x836e4e44L, 0x6e4e4415L,
            0x4e441529L, 0x441529fcL, 0x1529fc27L, 0x29fc2757L, 0xfc2757d1L, 0x2757d1f5L, 0x57d1f534L, 0xd1f534ddL, 0xf534ddc0L,
            0x34ddc0dbL, 0xddc0db62L, 0xc0db6295L, 0xdb629599L, 0x6295993cL, 0x95993c43L, 0x993c4390L, 0x3c439041L};

    static float sinf(float y) {
        return sinCos(y, false);
    }

    static float cosf(float y) {
        return sinCos(y, true);
    }

    private static int top12(float y) {
        return (Float.floatToRawIntBits(y) >>> 20) & 0x7ff;
    }

    private static float sinCos(float y, boolean cos) {
        int odd = cos ? 1 : 0;
        double x = y;
        if (top12(y) < top12(0x1.921fb6p-1f)) { // |y| < π/4
            if (top12(y) < top12(0x1p-12f)) return cos ? 1f : y;
            return poly(x, x * x, SINCOS[0], odd);
        }
        if (!Float.isFinite(y)) return Float.NaN;
        int n;
        double sign;
        if (top12(y) < top12(120f)) {
            double r = x * 0x1.45f306dc9c883p+23; // 2/π · 2²⁴: round(x·2/π) by the 24-bit shift
            n = ((int) r + 0x800000) >> 24;
            x = Math.fma(-(double) n, 0x1.921fb54442d18p0, x);
            sign = QUADRANT_SIGN[n & 3];
            return poly(x * sign, x * x, SINCOS[(n & 2) != 0 ? 1 : 0], n ^ odd);
        }
        // large arguments: y·4/π in 64-bit fixed point from the 192-bit table
        int xi = Float.floatToRawIntBits(y), negative = xi >>> 31;
        long m = ((xi & 0xffffffL) | 0x800000L) << ((xi >>> 23) & 7);
        int t = (xi >>> 26) & 15;
        long res0 = (m * INV_PIO4[t]) & 0xffffffffL, res1 = m * INV_PIO4[t + 4], res2 = m * INV_PIO4[t + 8];
        res0 = ((res2 >>> 32) | (res0 << 32)) + res1;
        long q = (res0 + (1L << 61)) >>> 62;
        res0 -= q << 62;
        n = (int) q;
        x = (double) res0 * 0x1.921fb54442d18p-62;
        sign = QUADRANT_SIGN[(n + negative) & 3];
        return poly(x * sign, x * x, SINCOS[((n + negative) & 2) != 0 ? 1 : 0], n ^ odd);
    }

    /** sin (n even) or cos (n odd) polynomial of the reduced x. */
    private static float poly(double x, double x2, double[] c, int n) {
        if ((n & 1) == 0) {
            double x3 = x * x2, s1 = Math.fma(x2, c[7], c[6]), x7 = x3 * x2, s = Math.fma(x3, c[5], x);
            return (float) Math.fma(x7, s1, s);
        }
        double x4 = x2 * x2, c2 = Math.fma(x2, c[4], c[3]), c1 = Math.fma(x2, c[1], c[0]), x6 = x4 * x2, co = Math.fma(x4, c[2], c1);
        return (float) Math.fma(x6, c2, co);
    }

    /**
     * ggml_rope_cache_init without scaling, for positions 0 … positions−1: θ starts at (float) p and is multiplied by
     * θ_scale = powf(base, −2/nDims) in float after each pair; cos and sin by glibc's cosf/sinf.
     * Writes cos[p·half + i], sin[p·half + i].
     */
    static void ropeCache(double base, int nDims, int positions, float[] cos, float[] sin) {
        int half = nDims / 2;
        // powf(base, −2/n): Math.pow rounded to float (equal to glibc's powf for base 10000, n 32; checked)
        float thetaScale = (float) Math.pow((float) base, -2.0f / nDims);
        for (int p = 0; p < positions; p++) {
            float theta = p;
            for (int i = 0; i < half; i++) {
                cos[p * half + i] = cosf(theta);
                sin[p * half + i] = sinf(theta);
                theta *= thetaScale;
            }
        }
    }
}
