package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.core.GgmlType;

/** IEEE half-precision weights; Float.float16ToFloat is an intrinsic (vcvtph2ps) on x86. */
public final class F16Matrix extends BlockMatrix {
    public F16Matrix(Tensor t) {
        super(t, GgmlType.F16);
    }

    @Override
    public void decodeRow(int row, float[] dst, int off) {
        long base = row * rowBytes;
        for (int c = 0; c < cols; c++) dst[off + c] = Float.float16ToFloat(data.get(LE_SHORT, base + 2L * c));
    }

    @Override
    protected void decodeBlock(byte[] b, int o, float[] y, int yo) {
        y[yo] = f16(b, o);
    }
}
