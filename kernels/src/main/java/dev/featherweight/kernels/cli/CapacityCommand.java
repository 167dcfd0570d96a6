package dev.featherweight.kernels.cli;

import dev.featherweight.catalog.capacity.Capacity;
import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.CapacityReport;
import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.catalog.capacity.KvDType;
import dev.featherweight.catalog.capacity.Precision;
import dev.featherweight.kernels.capacity.SizedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code fw capacity}: weights, KV cache, sequences that fit, optimal batch and decode speed per GPU. */
@Command(name = "capacity", mixinStandardHelpOptions = true,
        description = "How a model fits on GPUs: KV cache per token and sequence, max sequences, optimal batch, decode tokens/s.")
public final class CapacityCommand implements Callable<Integer> {
    /** A GPU of a multi-GPU comparison that cannot hold the model, with the numbers. */
    record DoesNotFit(String gpu, boolean fits, String error) {
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "model folder, .gguf file, config.json, or a shape name (Llama-2-13B, Llama-3-8B, …)")
    String model;

    @Option(names = "--gpu", required = true, split = ",", description = "GPU name(s) from the catalog, comma-separated or repeated, or 'all'")
    List<String> gpus;

    @Option(names = "--ctx", description = "context length per sequence (default: the model's max positions)")
    Integer ctx;

    @Option(names = "--kv-dtype", defaultValue = "fp16", description = "KV-cache element type: fp32, fp16, bf16, fp8, int8, int4 (default ${DEFAULT-VALUE})")
    String kvDType;

    @Option(names = "--weights-dtype", description = "size weights at a nominal precision (fp16, int8, int4, q4_k_m, gptq-4bit, nf4, …) instead of the artifact's bytes")
    String weightsDType;

    @Option(names = "--utilization", defaultValue = "0.9", description = "share of GPU memory the engine may use (default ${DEFAULT-VALUE}, as vLLM)")
    double utilization;

    @Option(names = "--overhead", description = "activation/workspace bytes (default: vLLM-style profile estimate, see kernels/README.md)")
    Long overhead;

    @Option(names = "--precision", defaultValue = "FP16", description = "matmul arithmetic: FP16 (weight-only quantization), INT8 or FP8 (W8A8)")
    Precision precision;

    @Option(names = "--tp", defaultValue = "1", description = "tensor-parallel GPUs")
    int tp;

    @Option(names = "--catalog", description = "extra GPU catalog JSON (adds or overrides entries)")
    Path catalog;

    @Option(names = "--json", description = "print JSON (an object for one GPU, an array for several)")
    boolean json;

    @Override
    public Integer call() {
        GpuCatalog cat = GpuCatalog.builtIn();
        if (catalog != null) cat.extend(catalog);
        SizedModel m = SizedModel.resolve(model, weightsDType);
        int context = ctx != null ? ctx : m.shape().maxPositions();
        KvDType kv = KvDType.parse(kvDType);
        long over = overhead != null ? overhead : Capacity.defaultOverheadBytes(m.shape());
        List<Gpu> targets = new ArrayList<>();
        for (String g : gpus) {
            if (g.equalsIgnoreCase("all")) targets.addAll(cat.all());
            else targets.add(cat.get(g));
        }
        // Several GPUs: one that cannot hold the model is a finding of the comparison, not a failure of the command.
        List<CapacityReport> reports = new ArrayList<>();
        List<Object> rows = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (Gpu g : targets) {
            try {
                CapacityReport r = Capacity.compute(m.shape(), g, m.weightsBytes(), context, kv, utilization, over, precision, tp);
                reports.add(r);
                rows.add(r);
            } catch (CapacityException e) {
                if (targets.size() == 1) throw e;
                failures.add(e.getMessage());
                rows.add(new DoesNotFit(g.name(), false, e.getMessage()));
            }
        }
        if (reports.isEmpty()) throw new CapacityException(String.join("; ", failures));
        var out = spec.commandLine().getOut();
        if (json) {
            JsonMapper mapper = JsonMapper.builder().build();
            if (targets.size() == 1) {
                out.println(mapper.writeValueAsString(reports.getFirst()));
            } else {
                var array = mapper.createArrayNode();
                for (Object row : rows) {
                    var node = (ObjectNode) mapper.valueToTree(row);
                    if (row instanceof CapacityReport) node.put("fits", true);
                    array.add(node);
                }
                out.println(mapper.writeValueAsString(array));
            }
        } else {
            CapacityReport first = reports.getFirst();
            out.printf(Locale.ROOT, "%s: %.3f B params, weights %.3f GB (%s, %.2f bits/weight), KV %.0f B/token (%s), context %d, overhead %.2f GB/GPU, utilization %.2f%s%n",
                    m.shape().name(), m.shape().params() / 1e9, m.weightsBytes() / 1e9, m.source(), m.weightsBytes() * 8.0 / m.shape().params(),
                    first.kvBytesPerToken(), kv.name().toLowerCase(Locale.ROOT), context, over / 1e9, utilization, tp > 1 ? ", tensor parallel " + tp : "");
            out.printf(Locale.ROOT, "%-16s %9s %9s %10s %9s %9s %7s %8s %7s %12s %10s %10s %s%n", "gpu", "usable GB", "KV GB", "KV/seq MB", "max seqs", "paged",
                    "B*", "B*@ctx", "batch", "decode tok/s", "1-seq t/s", "prefill ms", "bound");
            for (Object row : rows) {
                if (row instanceof CapacityReport r) {
                    out.printf(Locale.ROOT, "%-16s %9.1f %9.2f %10.1f %9d %9d %7.1f %8s %7d %12.0f %10.1f %10.2f %s%n", r.gpu(), r.usableBytes() / 1e9,
                            r.kvBudgetBytes() / 1e9, r.kvBytesPerSequence() / 1e6, r.maxSequences(), r.maxSequencesPaged(), r.optimalBatch(),
                            r.optimalBatchAtContext() == null ? "never" : String.format(Locale.ROOT, "%.1f", r.optimalBatchAtContext()),
                            r.decodeBatch(), r.decodeTokensPerSecond(), r.singleSequenceTokensPerSecond(), r.prefillSeconds() * 1e3,
                            r.memoryBound() ? "memory" : "compute");
                } else if (row instanceof DoesNotFit d) {
                    out.printf(Locale.ROOT, "%-16s does not fit: %s%n", d.gpu(), d.error());
                }
            }
        }
        return 0;
    }
}
