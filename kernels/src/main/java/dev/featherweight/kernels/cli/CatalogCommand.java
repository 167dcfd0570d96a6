package dev.featherweight.kernels.cli;

import dev.featherweight.catalog.Catalog;
import dev.featherweight.catalog.GgufFileType;
import dev.featherweight.catalog.MethodDescriptor;
import dev.featherweight.catalog.Parameter;
import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.GpuCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.json.JsonMapper;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code fw catalog}: what this engine can do — methods with their parameters, defaults and rules, the GGUF file
 * types it writes, the GPUs it sizes, the KV-cache types. {@code --json} prints the catalogue document exactly as
 * the platform's {@code GET /api/v1/catalog} serves it.
 */
@Command(name = "catalog", mixinStandardHelpOptions = true,
        description = "What the engine can do: methods, parameters (defaults, allowed values, rules), GGUF file types, GPUs, KV types.")
public final class CatalogCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "print the catalogue document (the same as GET /api/v1/catalog)")
    boolean json;

    @Override
    public Integer call() {
        Catalog.Document doc = Catalog.builtIn().document(GpuCatalog.builtIn());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(JsonMapper.builder().build().writeValueAsString(doc));
            out.flush();
            return 0;
        }
        out.println("Featherweight engine " + doc.engineVersion());
        out.println();
        for (MethodDescriptor.Document m : doc.methods()) {
            out.printf(Locale.ROOT, "%s — %s%s%n", m.name(), m.title(), m.calibrated() ? " (calibrated)" : "");
            out.println("  " + m.description());
            out.println("  writes: " + m.output());
            for (Parameter p : m.parameters()) out.printf(Locale.ROOT, "  %-20s %-8s %s%n", p.name(), p.type().json(), constraint(p));
            for (String r : m.rules()) out.println("  rule: " + r);
            out.println();
        }
        out.printf(Locale.ROOT, "%-8s %-3s %-7s %6s  %s%n", "GGUF", "id", "ggml", "bpw", "description");
        for (GgufFileType t : doc.ggufFileTypes())
            out.printf(Locale.ROOT, "%-8s %3d %-7s %6.2f  %s%n", t.name(), t.id(), t.ggmlType(), t.bitsPerWeight(), t.description());
        out.println();
        List<String> gpus = new ArrayList<>();
        for (Gpu g : doc.gpus()) gpus.add(String.format(Locale.ROOT, "%s (%.0f GB)", g.name(), g.memoryBytes() / 1e9));
        out.println("GPUs: " + String.join(", ", gpus));
        out.println("KV-cache types: " + String.join(", ", doc.kvDtypes()));
        out.flush();
        return 0;
    }

    /** "default 128; one of [-1, 32, …]" or "default 0.01; > 0 and <= 1". */
    private static String constraint(Parameter p) {
        StringBuilder s = new StringBuilder("default " + p.defaultValue());
        if (p.allowed() != null) s.append("; one of ").append(p.allowed());
        if (p.minimum() != null) s.append("; ").append(Boolean.TRUE.equals(p.exclusiveMinimum()) ? "> " : ">= ").append(p.minimum());
        if (p.maximum() != null) s.append(p.minimum() != null ? " and " : "; ").append("<= ").append(p.maximum());
        return s.toString();
    }
}
