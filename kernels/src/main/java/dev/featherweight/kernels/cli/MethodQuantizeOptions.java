package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.pipeline.QuantizeJob;
import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.pipeline.CalibrationPipeline;
import dev.featherweight.kernels.quant.QuantizationParams;
import dev.featherweight.kernels.quant.Recipe;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The options of {@code fw quantize --method …} (GPTQ, AWQ, bitsandbytes, RTN → a Hugging Face folder), mixed into
 * {@link QuantizeCommand}, which dispatches on --method / --format.
 */
public final class MethodQuantizeOptions {
    @Option(names = "--method", description = "rtn, gptq, awq, nf4, fp4 or llm-int8: write a Hugging Face folder (GPTQ / AWQ gemm / bitsandbytes layout)")
    String method;

    @Option(names = "--bits", description = "2, 3, 4 (default) or 8 (rtn, gptq, awq; AWQ gemm packs 4 bits only, so awq at 2, 3 or 8 bits is written in the GPTQ layout as gptq_v2)")
    Integer bits;

    @Option(names = "--group-size", description = "-1 (per channel), 32, 64, 128 (default) … (rtn, gptq, awq)")
    Integer groupSize;

    @Option(names = "--sym", description = "symmetric grid (default for rtn and gptq)")
    boolean sym;

    @Option(names = "--asym", description = "asymmetric grid with zero points (always for awq)")
    boolean asym;

    @Option(names = "--act-order", description = "GPTQ desc_act: visit columns by decreasing Hessian diagonal (g_idx)")
    boolean actOrder;

    @Option(names = "--static-groups", description = "GPTQ static_groups: fix every group's grid before the column loop")
    boolean staticGroups;

    @Option(names = "--damp", description = "GPTQ damp_percent (default 0.01)")
    Double damp;

    @Option(names = "--no-true-sequential", description = "GPTQ: one forward per block instead of q/k/v → o → gate/up → down in sequence")
    boolean noTrueSequential;

    @Option(names = "--gptq-v2", description = "write checkpoint_format gptq_v2 (zero points stored as is) instead of the classic zero − 1")
    boolean gptqV2;

    @Option(names = "--double-quant", description = "nf4/fp4: double-quantize the absmax (bnb_4bit_use_double_quant)")
    boolean doubleQuant;

    @Option(names = "--scheme", description = "--format compressed-tensors: W4A16 (default), W8A16, W8A8, FP8_DYNAMIC or FP8 (static input scales)")
    String scheme;

    @Option(names = "--algorithm", description = "--format compressed-tensors: rtn (default), gptq or awq for W4A16/W8A16; rtn or gptq for W8A8")
    String algorithm;

    @Option(names = "--smoothing", description = "--format compressed-tensors W8A8: SmoothQuant strength α in (0, 1) (llm-compressor's default 0.5); needs --calibration")
    Double smoothing;

    @Option(names = "--calibration", description = "calibration text (tokenized with the model's tokenizer) or *.u32 token file (gptq, awq)")
    Path calibration;

    @Option(names = "--samples", defaultValue = "" + QuantizeJob.Calibration.DEFAULT_SAMPLES, description = "calibration samples (default ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--seq-len", defaultValue = "" + QuantizeJob.Calibration.DEFAULT_SEQ_LEN, description = "tokens per sample, BOS first (default ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--seed", defaultValue = "" + QuantizeJob.Calibration.DEFAULT_SEED, description = "seed of the sample offsets (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--override", description = "REGEX=bits:B,group:G — GPTQModel dynamic override for modules matching REGEX (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--skip", description = "REGEX of modules to keep unquantized (repeatable), e.g. '.*down_proj'")
    List<String> skips = new ArrayList<>();

    @Option(names = "--work-dir", description = "resume state (default: a hidden folder beside --out, deleted when done)")
    Path workDir;

    /**
     * The recipe from the options given, by the same parameter names as a recipe's JSON ({@link QuantizationParams#of}):
     * what is not given takes the method's default.
     */
    Recipe recipe() {
        if (sym && asym) throw new IllegalArgumentException("--sym and --asym exclude each other");
        Map<String, Object> values = new LinkedHashMap<>();
        if (bits != null) values.put("bits", bits);
        if (groupSize != null) values.put("groupSize", groupSize);
        if (sym || asym) values.put("symmetric", sym);
        if (actOrder) values.put("descAct", true);
        if (staticGroups) values.put("staticGroups", true);
        if (damp != null) values.put("damp", damp);
        if (noTrueSequential) values.put("trueSequential", false);
        if (gptqV2) values.put("gptqV2", true);
        if (doubleQuant) values.put("doubleQuant", true);
        if (scheme != null) values.put("scheme", scheme);
        if (algorithm != null) values.put("algorithm", algorithm);
        if (smoothing != null) values.put("smoothing", smoothing);
        if ((scheme != null || algorithm != null || smoothing != null) && !"compressed-tensors".equals(method))
            throw new IllegalArgumentException("--scheme, --algorithm and --smoothing belong to --format compressed-tensors");
        List<Recipe.Rule> rules = new ArrayList<>();
        for (String k : skips) rules.add(new Recipe.Rule(k, true, null, null));
        for (String o : overrides) rules.add(Recipe.Rule.parseOverride(o));
        return Recipe.of(method, values).withRules(rules);
    }

    Integer run(Path model, Path out, Integer threads, boolean json, CommandSpec spec) {
        Recipe r = recipe();
        var err = spec.commandLine().getErr();
        try (Parallel pool = new Parallel(threads != null ? threads : Runtime.getRuntime().availableProcessors())) {
            CalibrationPipeline.Listener progress = new CalibrationPipeline.Listener() {
                @Override
                public void blockDone(int block, int blocks, double seconds) {
                    err.printf(Locale.ROOT, "block %d/%d done in %.2f s%n", block + 1, blocks, seconds);
                }
            };
            QuantizeJob.Result res;
            try {
                res = QuantizeJob.run(model, r, calibration == null ? null : new QuantizeJob.Calibration(calibration, samples, seqLen, seed),
                        out, workDir, progress, pool);
            } catch (RuntimeException e) {
                Path wd = workDir != null ? workDir : QuantizeJob.defaultWorkDir(out);
                if (java.nio.file.Files.isDirectory(wd)) err.println("fw quantize: resume state kept in " + wd + "; the same command continues from its last finished block");
                throw e;
            }
            var o = spec.commandLine().getOut();
            if (json) {
                JsonMapper jm = JsonMapper.builder().build();
                ObjectNode n = jm.createObjectNode();
                n.put("out", out.toString());
                n.put("method", r.method());
                if (r.params() instanceof dev.featherweight.kernels.quant.CompressedTensorsParams ct) {
                    n.put("scheme", ct.scheme().name());
                    n.put("algorithm", ct.algorithm());
                    if (ct.smoothing() != null) n.put("smoothing", ct.smoothing());
                }
                n.put("bits", r.params().bits());
                n.put("groupSize", r.params().groupSize());
                n.put("bytes", res.fileBytes());
                n.put("linearBytes", res.linearBytes());
                n.put("bitsPerWeight", res.bitsPerWeight());
                n.put("seconds", res.seconds());
                n.put("resumedFromBlock", res.resumedFromBlock());
                ArrayNode a = n.putArray("modules");
                for (CalibrationPipeline.ModuleReport m : res.modules()) {
                    ObjectNode mn = a.addObject();
                    mn.put("module", m.module());
                    mn.put("format", m.format());
                    mn.put("relativeError", m.error());
                    mn.put("seconds", m.seconds());
                }
                o.println(n);
            } else {
                String what = r.params() instanceof dev.featherweight.kernels.quant.CompressedTensorsParams ct
                        ? "compressed-tensors " + ct.scheme() + " (" + ct.algorithm() + (ct.smoothing() != null ? ", SmoothQuant α=" + ct.smoothing() : "") + ")"
                        : r.method();
                o.printf(Locale.ROOT, "%s  %s %d-bit g%d  %d bytes  %.3f bits/weight (linear layers)  %.2f s%s%n", out, what, r.params().bits(), r.params().groupSize(),
                        res.fileBytes(), res.bitsPerWeight(), res.seconds(), res.resumedFromBlock() > 0 ? "  (resumed at block " + res.resumedFromBlock() + ")" : "");
            }
        }
        return 0;
    }
}
