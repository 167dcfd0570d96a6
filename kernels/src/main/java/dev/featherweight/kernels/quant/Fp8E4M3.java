package dev.featherweight.kernels.quant;

/**
 * The 8-bit float torch calls {@code float8_e4m3fn} (OCP FP8 E4M3): 1 sign, 4 exponent bits (bias 7), 3 mantissa bits,
 * no infinities, one NaN pattern per sign (S.1111.111), largest finite value 448, smallest subnormal 2⁻⁹. Conversion from
 * float rounds to nearest, ties to even, as torch's {@code tensor.to(torch.float8_e4m3fn)} and CUDA's
 * {@code __nv_cvt_float_to_fp8(…, __NV_SATFINITE, __NV_E4M3)} do; values beyond ±448 saturate (callers clamp first, as
 * compressed-tensors and vLLM do, so saturation never decides a result).
 */
public final class Fp8E4M3 {
    public static final float MAX = 448f;
    /** vLLM's floor for a dynamic per-token scale: 1 / (448 · 512), so an all-zero token still gets a finite scale. */
    public static final float MIN_DYNAMIC_SCALE = 1f / (MAX * 512f);
    private static final float[] DECODE = new float[256];

    static {
        for (int b = 0; b < 256; b++) DECODE[b] = decodeBits(b);
    }

    private Fp8E4M3() {
    }

    private static float decodeBits(int b) {
        int sign = (b >> 7) & 1, exp = (b >> 3) & 0xF, man = b & 7;
        float v;
        if (exp == 0xF && man == 7) v = Float.NaN;
        else if (exp == 0) v = man * 0x1p-9f;
        else v = (1 + man / 8f) * Math.scalb(1f, exp - 7);
        return sign == 1 ? -v : v;
    }

    /** The value of an E4M3 byte. */
    public static float decode(byte b) {
        return DECODE[b & 0xFF];
    }

    /** The E4M3 byte nearest to {@code x} (ties to even), saturating at ±448; NaN → 0x7F. */
    public static byte encode(float x) {
        if (Float.isNaN(x)) return 0x7F;
        int sign = Float.floatToRawIntBits(x) < 0 ? 0x80 : 0;
        double a = Math.min(Math.abs((double) x), MAX);
        // the grid spacing at a: 2^(e-3) for normals (e = unbiased exponent ≥ -6), 2^-9 for subnormals
        int e = a == 0 ? -7 : Math.getExponent(a);
        double quantum = Math.scalb(1.0, Math.max(e, -6) - 3);
        double r = Math.rint(a / quantum) * quantum; // exact: quantum is a power of two
        r = Math.min(r, MAX);
        if (r == 0) return (byte) sign;
        int re = Math.getExponent(r);
        int bits;
        if (re < -6) {
            bits = (int) Math.round(r / 0x1p-9);                                  // subnormal: mantissa only
        } else {
            int man = (int) Math.round((r / Math.scalb(1.0, re) - 1) * 8);
            bits = ((re + 7) << 3) | man;
        }
        return (byte) (sign | bits);
    }

    /** x rounded to the nearest E4M3 value (encode then decode). */
    public static float round(float x) {
        return decode(encode(x));
    }

    /**
     * Weights quantized to E4M3 with a scale per output row ({@code perChannel}) or one for the tensor, as
     * compressed-tensors' min-max observer and {@code quantize} do: scale = absmax / 448 (float32), code =
     * e4m3(clamp(w / scale, ±448)); the dequantized weight is code · scale.
     *
     * @param codes  rows × cols E4M3 bytes
     * @param scales one per row, or one
     * @param inputScale the static activation scale (calibrated absmax / 448), NaN when activations are scaled per token at run time
     */
    public record Weight(int rows, int cols, byte[] codes, float[] scales, float inputScale) {
        public float dequantize(int r, int c) {
            return decode(codes[r * cols + c]) * scales[scales.length == 1 ? 0 : r];
        }

        public float[] dequantize() {
            float[] w = new float[rows * cols];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) w[r * cols + c] = dequantize(r, c);
            return w;
        }

        public Weight withInputScale(float s) {
            return new Weight(rows, cols, codes, scales, s);
        }
    }

    public static Weight quantize(float[] w, int rows, int cols, boolean perChannel) {
        float[] scales = new float[perChannel ? rows : 1];
        for (int r = 0; r < rows; r++) {
            float m = 0;
            for (int c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]));
            int i = perChannel ? r : 0;
            scales[i] = Math.max(scales[i], m);
        }
        // torch.clamp(scales, min=finfo(float32).eps) in calculate_qparams
        for (int i = 0; i < scales.length; i++) scales[i] = Math.max(scales[i] / MAX, Math.ulp(1f));
        byte[] codes = new byte[rows * cols];
        for (int r = 0; r < rows; r++) {
            float s = scales[perChannel ? r : 0];
            for (int c = 0; c < cols; c++) codes[r * cols + c] = encode(Math.clamp(w[r * cols + c] / s, -MAX, MAX));
        }
        return new Weight(rows, cols, codes, scales, Float.NaN);
    }
}
