package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.core.GgmlType;

import java.util.Arrays;
import java.util.Locale;

/**
 * llama-quantize's file types (include/llama.h {@code enum llama_ftype}): the number stored as
 * general.file_type and the default ggml type every quantizable tensor gets before the mix rules. A file type is
 * a mix, not a tensor type: block sizes, bytes and codecs come from the ggml type ({@link GgmlType},
 * {@link GgufBlockCodecs}).
 */
public enum FileType {
    F32(0, GgmlType.F32), F16(1, GgmlType.F16), BF16(32, GgmlType.BF16),
    Q4_0(2, GgmlType.Q4_0), Q4_1(3, GgmlType.Q4_1), Q8_0(7, GgmlType.Q8_0), Q5_0(8, GgmlType.Q5_0), Q5_1(9, GgmlType.Q5_1),
    Q2_K(10, GgmlType.Q2_K), Q3_K_S(11, GgmlType.Q3_K), Q3_K_M(12, GgmlType.Q3_K), Q3_K_L(13, GgmlType.Q3_K),
    Q4_K_S(14, GgmlType.Q4_K), Q4_K_M(15, GgmlType.Q4_K), Q5_K_S(16, GgmlType.Q5_K), Q5_K_M(17, GgmlType.Q5_K),
    Q6_K(18, GgmlType.Q6_K),
    IQ4_NL(25, GgmlType.IQ4_NL), IQ4_XS(30, GgmlType.IQ4_XS),
    IQ3_XXS(23, GgmlType.IQ3_XXS), IQ3_XS(22, GgmlType.IQ3_S), IQ3_S(26, GgmlType.IQ3_S), IQ3_M(27, GgmlType.IQ3_S),
    TQ1_0(36, GgmlType.TQ1_0), TQ2_0(37, GgmlType.TQ2_0),
    // the importance-matrix mixes of 2 bits and below (IQ2_S's default tensor type is IQ2_XS, IQ2_M's is IQ2_S)
    IQ2_XXS(19, GgmlType.IQ2_XXS), IQ2_XS(20, GgmlType.IQ2_XS), IQ2_S(28, GgmlType.IQ2_XS), IQ2_M(29, GgmlType.IQ2_S),
    IQ1_S(24, GgmlType.IQ1_S), IQ1_M(31, GgmlType.IQ1_M);

    public final int id;
    public final GgmlType defaultType;

    FileType(int id, GgmlType defaultType) {
        this.id = id;
        this.defaultType = defaultType;
    }

    /**
     * The file types llama-quantize refuses without an importance matrix (quantize.cpp: "Please do not use IQ1_S,
     * IQ1_M, IQ2_S, IQ2_XXS, IQ2_XS or Q2_K_S quantization without an importance matrix"); IQ2_M is not among them,
     * but its IQ2_S tensors still need one ({@code llama_model_quantize_impl}).
     */
    public boolean requiresImatrix() {
        return this == IQ2_XXS || this == IQ2_XS || this == IQ2_S || this == IQ1_S || this == IQ1_M;
    }

    public static FileType parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown GGUF type '" + s + "' (" + String.join(", ", Arrays.stream(values()).map(Enum::name).toList()) + ")");
        }
    }
}
