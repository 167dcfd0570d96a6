package dev.featherweight.catalog.capacity;

/**
 * The arithmetic the matmuls run in. Weight-only quantization (GPTQ, AWQ, NF4, GGUF K-quants)
 * dequantizes to fp16 before the multiply, so it uses {@link #FP16}; only W8A8 schemes use INT8/FP8 peaks.
 */
public enum Precision { FP16, INT8, FP8 }
