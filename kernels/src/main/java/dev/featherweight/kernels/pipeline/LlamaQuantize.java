package dev.featherweight.kernels.pipeline;

import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.quant.gguf.FileType;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodec;
import dev.featherweight.kernels.quant.gguf.GgufBlockCodecs;
import dev.featherweight.kernels.quant.gguf.ImportanceMatrixRequiredException;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.GgufValue;
import dev.featherweight.kernels.formats.gguf.GgufValueType;
import dev.featherweight.kernels.formats.gguf.GgufWriter;
import dev.featherweight.kernels.core.GgmlType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama-quantize for Llama-family models (src/llama-quant.cpp {@code llama_model_quantize_impl} and
 * {@code llama_tensor_get_type}): which tensors are quantized, to which type each one goes in a mix,
 * the fallback when a row does not fit the block size, the metadata it copies and appends, and the
 * tensor order it writes (weights_map: layer number, then name). Data goes through {@link GgufBlockCodecs}.
 */
public final class LlamaQuantize {
    private static final Pattern LAYER = Pattern.compile("blk\\.(\\d+)\\.");

    /** What happened to one tensor. */
    public record TensorChoice(String name, GgmlType type, boolean quantized, boolean fallback, long bytes) {
    }

    /** What a quantization wrote. */
    public record Result(Path file, long bytes, List<TensorChoice> tensors, int fallbacks) {
    }

    private LlamaQuantize() {
    }

    /** weights_map order (llama-model-loader.h weight_name_comparer): layer number (−1 outside blocks), then name. */
    public static final Comparator<String> WEIGHTS_ORDER = Comparator.<String>comparingInt(LlamaQuantize::layerOf).thenComparing(Comparator.naturalOrder());

    static int layerOf(String name) {
        Matcher m = LAYER.matcher(name);
        return m.lookingAt() ? Integer.parseInt(m.group(1)) : -1;
    }

    static boolean useMoreBits(int i, int n) {
        return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
    }

    /** Mutable counters of llama-quantize's quantize_state_impl that the rules read. */
    private static final class State {
        int nAttentionWv, iAttentionWv, nLayer, iFfnDown, iFfnGate, iFfnUp, nFallback;
        boolean hasOutput;
        int nGqa;
    }

    /**
     * Quantizes a planned model (from an HF folder via {@code HfToGguf.plan}, or from a GGUF F32/F16/BF16
     * file) to a file type, optionally with an importance matrix, and writes it to {@code out}.
     *
     * @param imatrixFileName the name recorded as quantize.imatrix.file (llama-quantize records the path it was given)
     */
    public static Result quantize(GgufModelPlan plan, FileType ftype, ImportanceMatrix imatrix, String imatrixFileName, Path out,
                                  int threads, Consumer<String> log) {
        if (ftype.requiresImatrix() && imatrix == null) {
            throw new ImportanceMatrixRequiredException(ftype + " needs an importance matrix: llama-quantize refuses IQ1_S, IQ1_M, IQ2_S, "
                    + "IQ2_XXS and IQ2_XS without one (the result would be garbage); make one with fw imatrix and pass --imatrix FILE");
        }
        return write(plan, ftype, null, imatrix, imatrixFileName, out, threads, log);
    }

    /**
     * Writes a mix chosen tensor by tensor (e.g. by {@link BudgetMix}): every quantizable tensor
     * ({@link #isQuantizable}) gets {@code types.get(name)}, the others are copied as llama-quantize copies them;
     * {@code label} is recorded as general.file_type (llama.cpp reads the per-tensor types, the label is informative).
     */
    public static Result quantizeMix(GgufModelPlan plan, Map<String, GgmlType> types, FileType label, ImportanceMatrix imatrix,
                                     String imatrixFileName, Path out, int threads, Consumer<String> log) {
        for (var t : plan.tensors()) {
            if (isQuantizable(t) && !types.containsKey(t.name())) throw new IllegalArgumentException("no type chosen for tensor " + t.name());
        }
        return write(plan, label, types, imatrix, imatrixFileName, out, threads, log);
    }

    /** The tensors llama-quantize quantizes: 2-D (or more) weights other than norms. */
    public static boolean isQuantizable(GgufModelPlan.SourceTensor t) {
        return t.name().endsWith("weight") && t.ne().length >= 2 && nonUnitDims(t.ne()) >= 2 && !t.name().contains("_norm.weight");
    }

    /** The metadata llama-quantize writes for this file type (what {@link #quantize} writes), e.g. to size the header. */
    public static LinkedHashMap<String, GgufValue> metadata(GgufModelPlan plan, FileType ftype, ImportanceMatrix imatrix, String imatrixFileName) {
        LinkedHashMap<String, GgufValue> kv = new LinkedHashMap<>(plan.metadata());
        kv.remove("general.quantization_version");
        kv.put("general.quantization_version", GgufValue.uint32(2));
        kv.remove("general.file_type");
        kv.put("general.file_type", GgufValue.uint32(ftype.id));
        kv.remove("split.no");
        kv.remove("split.count");
        kv.remove("split.tensors.count");
        if (imatrix != null) {
            kv.put("quantize.imatrix.file", GgufValue.string(imatrixFileName));
            kv.put("quantize.imatrix.dataset", GgufValue.string(imatrix.dataset()));
            kv.put("quantize.imatrix.entries_count", GgufValue.of(GgufValueType.INT32, imatrix.entries().size()));
            kv.put("quantize.imatrix.chunks_count", GgufValue.of(GgufValueType.INT32, imatrix.chunks()));
        }
        return kv;
    }

    /** Tensors in the order llama-quantize writes them. */
    public static List<GgufModelPlan.SourceTensor> ordered(GgufModelPlan plan) {
        List<GgufModelPlan.SourceTensor> ordered = new ArrayList<>(plan.tensors());
        ordered.sort(Comparator.comparing(GgufModelPlan.SourceTensor::name, WEIGHTS_ORDER));
        return ordered;
    }

    /**
     * The type every tensor gets in a file type's mix (llama_tensor_get_type with its fallbacks), without
     * quantizing anything: the rules {@link #quantize} applies, in write order.
     */
    public static LinkedHashMap<String, GgmlType> mixTypes(GgufModelPlan plan, FileType ftype, boolean hasImatrix) {
        var kv = metadata(plan, ftype, null, null);
        String arch = kv.get("general.architecture").asString();
        State qs = state(kv, arch, ordered(plan));
        LinkedHashMap<String, GgmlType> types = new LinkedHashMap<>();
        for (var t : ordered(plan)) {
            GgmlType type = t.type();
            if (isQuantizable(t) && ftype.defaultType.isQuantized()) type = tensorType(qs, ftype.defaultType, t, ftype, hasImatrix, arch, null);
            else if (isQuantizable(t)) type = ftype.defaultType;
            types.put(t.name(), type);
        }
        return types;
    }

    private static State state(Map<String, GgufValue> kv, String arch, List<GgufModelPlan.SourceTensor> ordered) {
        State qs = new State();
        qs.nLayer = kv.get(arch + ".block_count").asInt();
        int heads = kv.get(arch + ".attention.head_count").asInt();
        GgufValue kvHeads = kv.get(arch + ".attention.head_count_kv");
        qs.nGqa = heads / (kvHeads == null ? heads : kvHeads.asInt());
        for (var t : ordered) {
            if (t.name().contains("attn_v.weight") || t.name().contains("attn_qkv.weight") || t.name().contains("attn_kv_b.weight")) qs.nAttentionWv++;
            else if (t.name().equals("output.weight")) qs.hasOutput = true;
        }
        return qs;
    }

    private static Result write(GgufModelPlan plan, FileType ftype, Map<String, GgmlType> chosen, ImportanceMatrix imatrix, String imatrixFileName,
                                Path out, int threads, Consumer<String> log) {
        LinkedHashMap<String, GgufValue> kv = metadata(plan, ftype, imatrix, imatrixFileName);
        String arch = kv.get("general.architecture").asString();
        List<GgufModelPlan.SourceTensor> ordered = ordered(plan);
        State qs = state(kv, arch, ordered);
        if (imatrix != null) checkImatrix(imatrix, plan, out);

        List<GgufWriter.Entry> entries = new ArrayList<>();
        List<TensorChoice> choices = new ArrayList<>();
        for (var t : ordered) {
            boolean quantize = isQuantizable(t);
            GgmlType newType = t.type();
            boolean fallback = false;
            if (quantize && chosen != null) {
                newType = chosen.get(t.name());
                quantize = newType != t.type();
            } else if (quantize) {
                newType = ftype.defaultType;
                if (newType.isQuantized()) {
                    int before = qs.nFallback;
                    newType = tensorType(qs, newType, t, ftype, imatrix != null, arch, log);
                    fallback = qs.nFallback > before;
                }
                quantize = newType != t.type();
            }
            float[] importance = null;
            if (quantize && imatrix != null) {
                importance = imatrix.weights(t.name());
                if (importance != null && importance.length != t.rowLength()) {
                    throw new FormatException(out, t.name(), "imatrix has " + importance.length + " values but the tensor rows have " + t.rowLength()
                            + ": the importance matrix was made for another model");
                }
            }
            if (quantize && importance == null && needsImatrix(newType, t.name())) {
                throw new ImportanceMatrixRequiredException("tensor '" + t.name() + "' is quantized to " + newType
                        + ", which needs an importance matrix entry for it (llama-quantize: \"Missing importance matrix for tensor in a very low-bit quantization\")"
                        + (imatrix == null ? ": pass --imatrix FILE" : ": the importance matrix has none"));
            }
            GgmlType type = newType;
            GgufWriter.Filler filler;
            if (!quantize && t.raw() != null) {
                filler = dst -> {
                    dst.copyFrom(t.raw());
                    releaseSource(t);
                };
            } else {
                float[] imp = importance;
                filler = dst -> {
                    quantizeTensor(t, type, imp, dst, threads);
                    releaseSource(t);
                };
            }
            GgufWriter.Entry e = new GgufWriter.Entry(t.name(), type, t.ne(), filler);
            entries.add(e);
            choices.add(new TensorChoice(t.name(), type, quantize, fallback, e.bytes()));
        }
        if (qs.nFallback > 0 && log != null) {
            log.accept(qs.nFallback + " of " + choices.size() + " tensor(s) required fallback quantization");
        }
        long size = GgufWriter.write(out, kv, entries);
        return new Result(out, size, choices, qs.nFallback);
    }

    /**
     * llama_model_quantize_impl's refusal: IQ2_XXS, IQ2_XS, IQ2_S and IQ1_S tensors, and IQ1_M ones other than
     * token_embd/output, are never quantized without importance weights.
     */
    static boolean needsImatrix(GgmlType type, String name) {
        return switch (type) {
            case IQ2_XXS, IQ2_XS, IQ2_S, IQ1_S -> true;
            case IQ1_M -> !name.equals("token_embd.weight") && !name.equals("output.weight");
            default -> false;
        };
    }

    /** llama-quantize's mixes of 2 bits and below, which share their rules for output, token_embd, attn_v, ffn_down, attn_output. */
    private static final Set<FileType> IQ2_IQ1_MIXES = EnumSet.of(FileType.IQ2_XXS, FileType.IQ2_XS, FileType.IQ2_S, FileType.IQ2_M,
            FileType.IQ1_S, FileType.IQ1_M);

    private static int nonUnitDims(long[] ne) {
        int n = ne.length;
        while (n > 1 && ne[n - 1] == 1) n--;
        return n;
    }

    private static void checkImatrix(ImportanceMatrix imatrix, GgufModelPlan plan, Path out) {
        for (var e : imatrix.entries().entrySet()) {
            var t = plan.tensor(e.getKey());
            if (t == null) {
                throw new FormatException(out, e.getKey(), "is in the importance matrix but not in the model: the imatrix was made for another model");
            }
        }
        for (float[] v : imatrix.entries().values()) {
            for (float f : v) if (!Float.isFinite(f)) throw new FormatException(out, "imatrix contains non-finite value " + f);
        }
    }

    /**
     * Drops a mapped source tensor's pages from this process once it is written (the page cache keeps them): as
     * llama-quantize, which reads one tensor at a time into a buffer, only about one tensor of the input is resident.
     */
    private static void releaseSource(GgufModelPlan.SourceTensor t) {
        if (t.raw() != null && t.raw().isMapped()) t.raw().unload();
    }

    /** Quantizes a tensor row by row, each thread reading (converting, un-permuting) and quantizing its own rows. */
    private static void quantizeTensor(GgufModelPlan.SourceTensor t, GgmlType type, float[] importance, java.lang.foreign.MemorySegment dst, int threads) {
        GgufBlockCodec codec = GgufBlockCodecs.of(type);
        GgufBlockCodecs.quantizeRows(codec, t.rows()::read, t.rowCount(), (int) t.rowLength(), dst, 0, importance, threads);
        if (type.isQuantized()) GgufBlockCodecs.validateRowData(type, dst, 0, dst.byteSize());
    }

    /** llama_tensor_get_type for dense Llama-family models and the file types of {@link FileType}. */
    static GgmlType tensorType(State qs, GgmlType newType, GgufModelPlan.SourceTensor t, FileType ftype, boolean hasImatrix, String arch,
                               Consumer<String> log) {
        String name = t.name();
        if (name.equals("output.weight") || (!qs.hasOutput && name.equals("token_embd.weight"))) {
            if (t.rowLength() % newType.blockSize != 0) newType = GgmlType.Q8_0;
            else if (ftype == FileType.IQ3_XXS || IQ2_IQ1_MIXES.contains(ftype)) newType = GgmlType.Q5_K;
            else if (newType != GgmlType.Q8_0) newType = GgmlType.Q6_K;
        } else if (name.equals("token_embd.weight")) {
            switch (ftype) {
                case IQ2_XXS, IQ2_XS, IQ1_S, IQ1_M -> newType = GgmlType.Q2_K;
                case IQ2_S, IQ2_M, IQ3_XXS -> newType = GgmlType.IQ3_S;
                case TQ1_0, TQ2_0 -> newType = GgmlType.Q4_K;
                default -> {
                }
            }
        } else if (IQ2_IQ1_MIXES.contains(ftype)) {
            boolean iq2sOrM = ftype == FileType.IQ2_S || ftype == FileType.IQ2_M;
            if (name.contains("attn_v.weight")) {
                // dense models only (n_expert = 0): GQA ≥ 4 gets Q4_K
                newType = qs.nGqa >= 4 ? GgmlType.Q4_K : iq2sOrM ? GgmlType.IQ3_S : GgmlType.Q2_K;
                qs.iAttentionWv++;
            } else if (name.contains("ffn_down")) {
                if (qs.iFfnDown < qs.nLayer / 8) newType = iq2sOrM ? GgmlType.IQ3_S : GgmlType.Q2_K;
                qs.iFfnDown++;
            } else if (name.contains("attn_output.weight")) {
                if (ftype == FileType.IQ1_S || ftype == FileType.IQ1_M) newType = GgmlType.IQ2_XXS;
                else if (iq2sOrM) newType = GgmlType.IQ3_S;
            }
        } else if (name.contains("attn_v.weight")) {
            switch (ftype) {
                case Q2_K -> newType = qs.nGqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
                case Q3_K_M -> newType = qs.iAttentionWv < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
                case Q3_K_L -> newType = GgmlType.Q5_K;
                case Q4_K_M, Q5_K_M -> {
                    if (useMoreBits(qs.iAttentionWv, qs.nAttentionWv)) newType = GgmlType.Q6_K;
                }
                case Q4_K_S -> {
                    if (qs.iAttentionWv < 4) newType = GgmlType.Q5_K;
                }
                case IQ3_XXS -> newType = qs.nGqa >= 4 ? GgmlType.Q4_K : !hasImatrix ? GgmlType.IQ3_S : GgmlType.IQ3_XXS;
                case IQ3_XS, IQ3_S -> {
                    if (qs.nGqa >= 4) newType = GgmlType.Q4_K;
                }
                case IQ3_M -> newType = GgmlType.Q4_K;
                case IQ4_NL, IQ4_XS -> {
                    if (qs.nGqa >= 4) newType = GgmlType.Q5_K;
                }
                default -> {
                }
            }
            qs.iAttentionWv++;
        } else if (name.contains("attn_k.weight") || name.contains("attn_q.weight")) {
            if (ftype == FileType.IQ3_XS) newType = GgmlType.IQ3_XXS;
            else if (ftype == FileType.IQ3_XXS) newType = GgmlType.IQ2_S;
        } else if (name.contains("ffn_down")) {
            int i = qs.iFfnDown, n = qs.nLayer;
            switch (ftype) {
                case Q2_K -> newType = GgmlType.Q3_K;
                case Q3_K_M -> newType = i < n / 16 ? GgmlType.Q5_K : GgmlType.Q4_K; // non-Falcon: Q4_K past the first 1/16
                case Q3_K_L -> newType = GgmlType.Q5_K;
                case Q4_K_M, Q5_K_M -> {
                    if (useMoreBits(i, n)) newType = GgmlType.Q6_K;
                }
                case Q4_K_S -> {
                    if (i < n / 8) newType = GgmlType.Q5_K;
                }
                case IQ3_XXS -> {
                    if (!hasImatrix) newType = i < n / 8 ? GgmlType.Q4_K : GgmlType.Q3_K;
                }
                case IQ3_M -> {
                    if (i < n / 8) newType = GgmlType.Q4_K;
                }
                case IQ4_NL, IQ4_XS -> {
                    if (i < n / 8 && !hasImatrix) newType = GgmlType.Q5_K;
                }
                case Q4_0, Q5_0 -> {
                    // Guard the first ffn_down layers, only with an imatrix so plain quantization never changes.
                    if (hasImatrix && i < n / 8) newType = ftype == FileType.Q4_0 ? GgmlType.Q4_1 : GgmlType.Q5_1;
                }
                default -> {
                }
            }
            qs.iFfnDown++;
        } else if (name.contains("attn_output.weight")) {
            switch (ftype) {
                case Q2_K -> newType = GgmlType.Q3_K;
                case Q3_K_M -> newType = GgmlType.Q4_K;
                case Q3_K_L -> newType = GgmlType.Q5_K;
                case IQ3_XXS -> newType = GgmlType.IQ3_S;
                case IQ3_M -> newType = GgmlType.Q4_K;
                default -> {
                }
            }
        } else if (name.contains("attn_qkv.weight")) {
            switch (ftype) {
                case Q3_K_M, Q3_K_L, IQ3_M -> newType = GgmlType.Q4_K;
                case Q4_K_M -> newType = GgmlType.Q5_K;
                case Q5_K_M -> newType = GgmlType.Q6_K;
                default -> {
                }
            }
        } else if (name.contains("ffn_gate") || name.contains("ffn_up")) {
            // IQ3_XS keeps the outer eighths of the gate/up projections at IQ3_S, the middle at IQ3_XXS.
            boolean gate = name.contains("ffn_gate");
            int i = gate ? qs.iFfnGate : qs.iFfnUp, n = qs.nLayer;
            if (ftype == FileType.IQ3_XS && i >= n / 8 && i < 7 * n / 8) newType = GgmlType.IQ3_XXS;
            if (gate) qs.iFfnGate++;
            else qs.iFfnUp++;
        }
        long nx = t.rowLength();
        if (nx % newType.blockSize != 0) {
            GgmlType requested = newType;
            newType = fallbackType(name, nx, requested);
            if (log != null) {
                log.accept("tensor " + name + ": cols " + nx + " are not divisible by " + requested.blockSize + ", required for "
                        + requested + " - using fallback quantization " + newType);
            }
            qs.nFallback++;
        }
        return newType;
    }

    /**
     * The type llama-quantize writes instead of {@code requested} when rows of {@code nx} weights are not whole
     * blocks of it (the same type when they are).
     *
     * @throws UnsupportedTensorSizeException when the type has no fallback
     */
    public static GgmlType fallbackType(String name, long nx, GgmlType requested) {
        if (nx % requested.blockSize == 0) return requested;
        GgmlType type = switch (requested) {
            case Q2_K, Q3_K, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M, IQ4_XS -> GgmlType.IQ4_NL;
            case TQ1_0, TQ2_0 -> GgmlType.Q4_0;
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> throw new UnsupportedTensorSizeException(name, nx, requested);
        };
        return nx % type.blockSize != 0 ? GgmlType.F16 : type;
    }

    /** llama-quantize's "Unsupported tensor size encountered": no fallback exists for this type. */
    public static final class UnsupportedTensorSizeException extends RuntimeException {
        public UnsupportedTensorSizeException(String tensor, long cols, GgmlType type) {
            super("tensor '" + tensor + "' has rows of " + cols + " weights, not a multiple of " + type.blockSize + " as " + type
                    + " needs, and " + type + " has no fallback type (llama-quantize refuses this model for this type too)");
        }
    }
}
