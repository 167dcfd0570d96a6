package dev.featherweight.kernels.quant;

/** Methods whose codes sit on a uniform integer grid with a scale and zero point per group (RTN, GPTQ, AWQ). */
public sealed interface UniformGridParams extends QuantizationParams permits RtnParams, GptqParams, AwqParams {
    /** Symmetric grid (zero point in the middle of the codes). */
    boolean sym();

    /** Zero points stored as they are (GPTQModel's gptq_v2) rather than as zero − 1. */
    boolean gptqV2();
}
