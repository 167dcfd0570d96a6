package dev.featherweight.catalog;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import java.util.List;

/**
 * One llama-quantize file type the engine writes (include/llama.h {@code enum llama_ftype}): the name a recipe
 * gives, llama.cpp's number for it (general.file_type), the ggml type most tensors get before the mix rules,
 * and its size. Adding a type the kernels can write = one entry in {@link #ALL} (a kernels test keeps this list
 * equal to the kernels' {@code FileType}).
 *
 * @param bitsPerWeight whole-file bits per weight: exact for single-type files (the block size of the type); for
 *                      the K-quant mixes the figure llama.cpp's examples/quantize/README.md reports for Llama 2 7B, for the
 *                      IQ mixes the figure llama-quantize's type list prints
 * @param requiresImatrix whether llama-quantize refuses the type without an importance matrix (IQ1_*, IQ2_*, and IQ3_XXS:
 *                        its attn_q/attn_k are IQ2_S, which ggml quantizes only with importance weights); a recipe
 *                        then needs {@code imatrix: true}
 */
@JsonPropertyOrder({"name", "id", "ggmlType", "bitsPerWeight", "requiresImatrix", "description"})
public record GgufFileType(String name, int id, String ggmlType, double bitsPerWeight, boolean requiresImatrix, String description) {

    public static final List<GgufFileType> ALL = List.of(
            new GgufFileType("F32", 0, "F32", 32, false, "every tensor in 32-bit float (no quantization)"),
            new GgufFileType("F16", 1, "F16", 16, false, "matrices in 16-bit float, norms in F32"),
            new GgufFileType("BF16", 32, "BF16", 16, false, "matrices in bfloat16, norms in F32"),
            new GgufFileType("Q8_0", 7, "Q8_0", 8.5, false, "8-bit, blocks of 32 with an fp16 scale; nearly lossless"),
            new GgufFileType("Q4_0", 2, "Q4_0", 4.5, false, "legacy 4-bit, blocks of 32 with an fp16 scale; output head Q6_K"),
            new GgufFileType("Q4_1", 3, "Q4_1", 5.0, false, "legacy 4-bit, blocks of 32 with fp16 scale and minimum"),
            new GgufFileType("Q5_0", 8, "Q5_0", 5.5, false, "legacy 5-bit, blocks of 32 with an fp16 scale"),
            new GgufFileType("Q5_1", 9, "Q5_1", 6.0, false, "legacy 5-bit, blocks of 32 with fp16 scale and minimum"),
            new GgufFileType("Q2_K", 10, "Q2_K", 3.35, false, "2-bit K-quant mix (Q2_K/Q3_K/Q4_K), super-blocks of 256; large quality loss"),
            new GgufFileType("Q3_K_S", 11, "Q3_K", 3.50, false, "3-bit K-quant, small mix"),
            new GgufFileType("Q3_K_M", 12, "Q3_K", 3.91, false, "3-bit K-quant, medium mix (attn_v, attn_output, ffn_down higher)"),
            new GgufFileType("Q3_K_L", 13, "Q3_K", 4.27, false, "3-bit K-quant, large mix"),
            new GgufFileType("Q4_K_S", 14, "Q4_K", 4.58, false, "4-bit K-quant, small mix"),
            new GgufFileType("Q4_K_M", 15, "Q4_K", 4.84, false, "4-bit K-quant, medium mix (half of attn_v and ffn_down in Q6_K); the usual choice"),
            new GgufFileType("Q5_K_S", 16, "Q5_K", 5.52, false, "5-bit K-quant, small mix"),
            new GgufFileType("Q5_K_M", 17, "Q5_K", 5.68, false, "5-bit K-quant, medium mix"),
            new GgufFileType("Q6_K", 18, "Q6_K", 6.5625, false, "6-bit K-quant, super-blocks of 256"),
            new GgufFileType("IQ4_NL", 25, "IQ4_NL", 4.5, false, "4-bit non-linear (16-value table), blocks of 32; attn_v Q5_K with GQA ≥ 4"),
            new GgufFileType("IQ4_XS", 30, "IQ4_XS", 4.25, false, "4-bit non-linear, super-blocks of 256 with 6-bit sub-block scales; an imatrix helps"),
            new GgufFileType("IQ3_M", 27, "IQ3_S", 3.66, false, "3-bit lattice (IQ3_S) with attn_v/attn_output Q4_K; an imatrix helps"),
            new GgufFileType("IQ3_S", 26, "IQ3_S", 3.4375, false, "3-bit lattice, 512-point grid, super-blocks of 256; an imatrix helps"),
            new GgufFileType("IQ3_XS", 22, "IQ3_S", 3.3, false, "3-bit lattice mix: IQ3_S with attn_q/attn_k and the middle ffn_gate/ffn_up in IQ3_XXS"),
            new GgufFileType("IQ3_XXS", 23, "IQ3_XXS", 3.06, true, "3-bit lattice, 256-point grid, attn_q/attn_k IQ2_S; needs an importance matrix"),
            new GgufFileType("TQ1_0", 36, "TQ1_0", 1.6875, false, "ternary (-1, 0, +1 per weight, 5 per byte) for ternary-trained models (BitNet b1.58, TriLM); others collapse"),
            new GgufFileType("TQ2_0", 37, "TQ2_0", 2.0625, false, "ternary in 2 bits per weight (faster to decode than TQ1_0); for ternary-trained models"),
            new GgufFileType("IQ2_XXS", 19, "IQ2_XXS", 2.06, true, "2-bit lattice quant (256-point E8 grid); output Q5_K, token_embd Q2_K"),
            new GgufFileType("IQ2_XS", 20, "IQ2_XS", 2.31, true, "2-bit lattice quant (512-point grid); output Q5_K, token_embd Q2_K"),
            new GgufFileType("IQ2_S", 28, "IQ2_XS", 2.5, true, "2-bit mix: IQ2_XS with token_embd and attn_output in IQ3_S"),
            new GgufFileType("IQ2_M", 29, "IQ2_S", 2.7, true, "2-bit mix: IQ2_S (1024-point grid) with token_embd and attn_output in IQ3_S"),
            new GgufFileType("IQ1_S", 24, "IQ1_S", 1.56, true, "1.5-bit ternary lattice quant; attn_output IQ2_XXS; heavy quality loss"),
            new GgufFileType("IQ1_M", 31, "IQ1_M", 1.75, true, "1.75-bit ternary lattice quant with per-half shifts; attn_output IQ2_XXS"));

    public static GgufFileType find(String name) {
        return ALL.stream().filter(t -> t.name.equals(name)).findFirst().orElse(null);
    }

    public static List<String> names() {
        return ALL.stream().map(GgufFileType::name).toList();
    }

    /**
     * A ggml tensor type the listed file types can contain (ggml/src/ggml-common.h): weights per block and bytes
     * per block. IQ4_NL appears only as llama-quantize's fallback for rows not a multiple of 256 in Q2_K/Q3_K mixes.
     */
    public record GgmlType(String name, int blockSize, int typeSize) {
        public static final List<GgmlType> ALL = List.of(
                new GgmlType("F32", 1, 4), new GgmlType("F16", 1, 2), new GgmlType("BF16", 1, 2),
                new GgmlType("Q4_0", 32, 18), new GgmlType("Q4_1", 32, 20), new GgmlType("Q5_0", 32, 22), new GgmlType("Q5_1", 32, 24),
                new GgmlType("Q8_0", 32, 34), new GgmlType("Q2_K", 256, 84), new GgmlType("Q3_K", 256, 110), new GgmlType("Q4_K", 256, 144),
                new GgmlType("Q5_K", 256, 176), new GgmlType("Q6_K", 256, 210), new GgmlType("IQ4_NL", 32, 18),
                new GgmlType("IQ4_XS", 256, 136), new GgmlType("IQ3_S", 256, 110), new GgmlType("IQ3_XXS", 256, 98),
                new GgmlType("TQ1_0", 256, 54), new GgmlType("TQ2_0", 256, 66),
                new GgmlType("IQ2_XXS", 256, 66), new GgmlType("IQ2_XS", 256, 74), new GgmlType("IQ2_S", 256, 82),
                new GgmlType("IQ1_S", 256, 50), new GgmlType("IQ1_M", 256, 56));
    }
}
