package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufModelPlan;
import dev.featherweight.kernels.formats.gguf.HfToGguf;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.gguf.FileType;
import dev.featherweight.kernels.formats.gguf.ImportanceMatrix;
import dev.featherweight.kernels.pipeline.BudgetMix;
import dev.featherweight.kernels.pipeline.MixSensitivity;
import dev.featherweight.kernels.pipeline.LlamaQuantize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code fw quantize --format gguf}: an HF folder or an F32/F16/BF16 GGUF file to a llama.cpp file type,
 * byte-identical to convert_hf_to_gguf.py + llama-quantize.
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantize a model. --method rtn|gptq|awq|nf4|fp4|llm-int8: a Hugging Face folder for transformers/vLLM. --format compressed-tensors --scheme W4A16|W8A16|W8A8|FP8_DYNAMIC|FP8 [--algorithm rtn|gptq|awq] [--smoothing A]: a compressed-tensors folder for vLLM. --format gguf: llama.cpp file types (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_S/M/L, Q4_K_S/M, Q5_K_S/M, Q6_K, IQ4_NL, IQ4_XS, IQ3_XXS/XS/S/M, IQ2_XXS/XS/S/M, IQ1_S/M, TQ1_0, TQ2_0; IQ1/IQ2 and IQ3_XXS need --imatrix), or a mix for a size budget (--target-bpw / --target-bytes).")
public final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "Hugging Face folder, or a GGUF F32/F16/BF16 file")
    Path model;

    @Option(names = "--format", defaultValue = "gguf", description = "gguf (default) or compressed-tensors (with --scheme)")
    String format;

    @Option(names = "--type", description = "GGUF file type, e.g. Q4_K_M (with --format gguf)")
    String type;

    @Option(names = "--target-bpw", description = "GGUF mix for a size budget: tensors' bits per weight at most this (instead of --type)")
    Double targetBpw;

    @Option(names = "--target-bytes", description = "GGUF mix for a size budget: the whole file at most this many bytes (instead of --type)")
    Long targetBytes;

    /** --method rtn|gptq|awq|nf4|fp4|llm-int8: a Hugging Face folder for transformers/vLLM (see {@link MethodQuantizeOptions}). */
    @picocli.CommandLine.Mixin
    MethodQuantizeOptions methodOptions;

    @Option(names = "--out", required = true, description = "output .gguf file (written under a temporary name, renamed when complete)")
    Path out;

    @Option(names = "--imatrix", description = "importance matrix (llama-imatrix .dat) for the weighted quantization search")
    Path imatrix;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--json", description = "print one JSON object: file, bytes, bits per weight, seconds, per-tensor types")
    boolean json;

    @Override
    public Integer call() {
        if (format.equalsIgnoreCase("compressed-tensors")) {
            if (methodOptions.method != null) throw new IllegalArgumentException("--format compressed-tensors takes --algorithm rtn|gptq|awq, not --method");
            methodOptions.method = "compressed-tensors";
        }
        if (methodOptions.method != null) return methodOptions.run(model, out, threads, json, spec);
        int budgets = (type != null ? 1 : 0) + (targetBpw != null ? 1 : 0) + (targetBytes != null ? 1 : 0);
        if (budgets != 1) {
            throw new IllegalArgumentException("--format gguf needs exactly one of --type, --target-bpw, --target-bytes (or give --method rtn|gptq|awq|nf4|fp4|llm-int8)");
        }
        if (!format.equalsIgnoreCase("gguf")) {
            throw new IllegalArgumentException("unknown --format '" + format + "' (gguf or compressed-tensors)");
        }
        FileType ftype = type == null ? null : FileType.parse(type);
        BudgetMix.Budget budget = targetBpw != null ? new BudgetMix.Budget.BitsPerWeight(targetBpw)
                : targetBytes != null ? new BudgetMix.Budget.FileBytes(targetBytes) : null;
        int nThreads = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        long t0 = System.nanoTime();
        ImportanceMatrix im = imatrix == null ? null : ImportanceMatrix.read(imatrix);
        LlamaQuantize.Result result;
        if (Files.isDirectory(model)) {
            try (SafetensorsModel weights = SafetensorsModel.open(model)) {
                if (im == null && budget == null && (ftype == FileType.F32 || ftype == FileType.F16 || ftype == FileType.BF16)) {
                    // Plain conversion: the converter's own file (its tensor order and metadata), not llama-quantize's.
                    long bytes = HfToGguf.convert(model, ftype.defaultType, out);
                    report(bytes, null, t0);
                    return 0;
                }
                GgufModelPlan plan = HfToGguf.plan(model, weights, GgmlType.F32);
                result = quantize(plan, ftype, budget, im, nThreads);
            }
        } else if (model.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gguf")) {
            try (GgufFile g = GgufFile.open(model)) {
                result = quantize(GgufModelPlan.of(g), ftype, budget, im, nThreads);
            }
        } else {
            throw new FormatException(model, "expected a Hugging Face folder or a .gguf file");
        }
        report(result.bytes(), result, t0);
        return 0;
    }

    private LlamaQuantize.Result quantize(GgufModelPlan plan, FileType ftype, BudgetMix.Budget budget, ImportanceMatrix im, int nThreads) {
        var err = spec.commandLine().getErr();
        String imName = imatrix == null ? null : imatrix.toString();
        if (budget == null) return LlamaQuantize.quantize(plan, ftype, im, imName, out, nThreads, err::println);
        var candidates = BudgetMix.defaultCandidates(im != null);
        List<BudgetMix.TensorOptions> measured;
        try {
            measured = methodOptions.calibration != null
                    ? MixSensitivity.measure(model, plan, im, methodOptions.calibration, candidates, nThreads)
                    : BudgetMix.measure(plan, im, candidates, nThreads);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        BudgetMix.Mix mix = BudgetMix.allocateMix(plan, budget, im, imName, measured);
        return LlamaQuantize.quantizeMix(plan, mix.types(), mix.label(), im, imName, out, nThreads, err::println);
    }

    private void report(long bytes, LlamaQuantize.Result result, long t0) {
        double seconds = (System.nanoTime() - t0) / 1e9;
        long weights = 0, tensorBytes = 0;
        try (GgufFile g = GgufFile.open(out)) {
            for (var t : g.tensorInfos()) {
                weights += t.elements();
                tensorBytes += t.bytes();
            }
        }
        double bpw = tensorBytes * 8.0 / weights;
        var o = spec.commandLine().getOut();
        if (json) {
            JsonMapper m = JsonMapper.builder().build();
            ObjectNode n = m.createObjectNode();
            n.put("file", out.toString());
            n.put("bytes", bytes);
            n.put("bitsPerWeight", bpw);
            n.put("seconds", seconds);
            ArrayNode ts = n.putArray("tensors");
            try (GgufFile g = GgufFile.open(out)) {
                for (var t : g.tensorInfos()) {
                    ObjectNode tn = ts.addObject();
                    tn.put("name", t.name());
                    tn.put("type", t.type().name());
                    tn.put("bytes", t.bytes());
                    if (result != null) result.tensors().stream().filter(c -> c.name().equals(t.name())).findFirst().ifPresent(c -> tn.put("fallback", c.fallback()));
                }
            }
            o.println(n);
        } else {
            o.printf(Locale.ROOT, "%s  %d bytes  %.3f bits/weight  %.2f s%n", out, bytes, bpw, seconds);
        }
    }
}
