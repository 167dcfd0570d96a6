package dev.featherweight.kernels.quant;

import dev.featherweight.kernels.core.FloatArrayMatrix;
import dev.featherweight.kernels.core.WeightMatrix;

/** The outcome for one linear layer: its quantized form (or the float weights it keeps) and its error. */
public sealed interface QuantizedModule {
    int rows();

    int cols();

    /** The weights a loader of the written checkpoint reconstructs, rows × cols. */
    float[] dequantize();

    /** A matrix view (decoding from the compact form) for running the quantized block. */
    default WeightMatrix matrix() {
        return new FloatArrayMatrix(dequantize(), rows(), cols(), getClass().getSimpleName());
    }

    /** A uniform-grid module (RTN, GPTQ, AWQ). */
    record Uniform(QuantizedLinear q) implements QuantizedModule {
        public int rows() {
            return q.rows();
        }

        public int cols() {
            return q.cols();
        }

        public float[] dequantize() {
            return q.dequantize();
        }

        @Override
        public WeightMatrix matrix() {
            return new WeightMatrix() {
                public int rows() {
                    return q.rows();
                }

                public int cols() {
                    return q.cols();
                }

                public String format() {
                    return "grid-" + q.bits() + "bit";
                }

                public void decodeRow(int row, float[] dst, int off) {
                    for (int c = 0; c < q.cols(); c++) dst[off + c] = q.dequantize(row, c);
                }

                public long storageBytes() {
                    return (long) q.rows() * q.cols() * q.bits() / 8;
                }
            };
        }
    }

    /** bitsandbytes 4-bit, with the double-quantized absmax when {@code nested} is not null. */
    record Bnb4(Nf4.Weight w, Nf4.NestedAbsmax nested, int rows, int cols) implements QuantizedModule {
        public float[] absmaxUsed() {
            return nested != null ? nested.dequantize() : w.absmax();
        }

        public float[] dequantize() {
            return w.dequantize(absmaxUsed());
        }
    }

    /** bitsandbytes LLM.int8. */
    record Int8(LlmInt8.Weight w) implements QuantizedModule {
        public int rows() {
            return w.rows();
        }

        public int cols() {
            return w.cols();
        }

        public float[] dequantize() {
            return w.dequantize();
        }
    }

    /** FP8 E4M3 weights with per-row or per-tensor scales (and a static input scale when calibrated). */
    record Fp8(Fp8E4M3.Weight w) implements QuantizedModule {
        public int rows() {
            return w.rows();
        }

        public int cols() {
            return w.cols();
        }

        public float[] dequantize() {
            return w.dequantize();
        }
    }

    /** Not quantized (skipped by a rule): kept as floats, possibly rescaled by AWQ. */
    record Kept(float[] w, int rows, int cols) implements QuantizedModule {
        public float[] dequantize() {
            return w.clone();
        }

        @Override
        public WeightMatrix matrix() {
            return new FloatArrayMatrix(w, rows, cols, "F32");
        }
    }
}
