package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.formats.ModelInspector;
import dev.featherweight.kernels.formats.ModelSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code fw inspect PATH}: format, architecture, tensors, parameter count and bytes of a model, from its headers only. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Describe a model (.gguf file, .safetensors file or Hugging Face folder): format, architecture, "
                + "tensors (name, dtype, shape, bytes), parameter count, bytes on disk.")
public final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PATH", description = "a .gguf file, a .safetensors file, or a Hugging Face model folder")
    Path path;

    @Option(names = "--json", description = "print one JSON object instead of a table")
    boolean json;

    @Override
    public Integer call() {
        ModelSummary s = ModelInspector.inspect(path);
        PrintWriter out = spec.commandLine().getOut();
        if (json) out.println(toJson(s));
        else printTable(s, out);
        out.flush();
        return 0;
    }

    static String toJson(ModelSummary s) {
        JsonMapper mapper = JsonMapper.builder().build();
        ObjectNode root = mapper.createObjectNode();
        root.put("path", s.path().toString());
        root.put("format", s.format());
        root.put("architecture", s.architecture());
        root.put("parameters", s.parameterCount());
        root.put("tensorBytes", s.tensorBytes());
        root.put("bytesOnDisk", s.bytesOnDisk());
        ArrayNode files = root.putArray("files");
        s.files().forEach(f -> files.add(f.toString()));
        root.set("details", mapper.valueToTree(s.details()));
        ArrayNode tensors = root.putArray("tensors");
        for (ModelSummary.TensorEntry t : s.tensors()) {
            ObjectNode o = tensors.addObject();
            o.put("name", t.name());
            o.put("dtype", t.dtype());
            ArrayNode shape = o.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            o.put("bytes", t.bytes());
        }
        return mapper.writeValueAsString(root);
    }

    static void printTable(ModelSummary s, PrintWriter out) {
        out.printf(java.util.Locale.ROOT, "%-14s %s%n", "path", s.path());
        out.printf(java.util.Locale.ROOT, "%-14s %s%n", "format", s.format());
        out.printf(java.util.Locale.ROOT, "%-14s %s%n", "architecture", s.architecture() == null ? "(not stated)" : s.architecture());
        out.printf(java.util.Locale.ROOT, "%-14s %,d (%s)%n", "parameters", s.parameterCount(), human(s.parameterCount(), ""));
        out.printf(java.util.Locale.ROOT, "%-14s %,d (%s)%n", "tensor bytes", s.tensorBytes(), human(s.tensorBytes(), "B"));
        out.printf(java.util.Locale.ROOT, "%-14s %,d (%s)%n", "bytes on disk", s.bytesOnDisk(), human(s.bytesOnDisk(), "B"));
        for (Map.Entry<String, Object> e : s.details().entrySet()) out.printf(java.util.Locale.ROOT, "%-14s %s%n", e.getKey(), e.getValue());
        out.printf(java.util.Locale.ROOT, "%-14s %d%n%n", "tensors", s.tensors().size());
        int nameWidth = 4, dtypeWidth = 5, shapeWidth = 5;
        for (ModelSummary.TensorEntry t : s.tensors()) {
            nameWidth = Math.max(nameWidth, t.name().length());
            dtypeWidth = Math.max(dtypeWidth, t.dtype().length());
            shapeWidth = Math.max(shapeWidth, Arrays.toString(t.shape()).length());
        }
        String row = "%-" + nameWidth + "s  %-" + dtypeWidth + "s  %-" + shapeWidth + "s  %,14d%n";
        out.printf(java.util.Locale.ROOT, "%-" + nameWidth + "s  %-" + dtypeWidth + "s  %-" + shapeWidth + "s  %14s%n", "name", "dtype", "shape", "bytes");
        for (ModelSummary.TensorEntry t : s.tensors()) out.printf(java.util.Locale.ROOT, row, t.name(), t.dtype(), Arrays.toString(t.shape()), t.bytes());
    }

    /** 3279104 → "3.28 M"; bytes in binary units. */
    private static String human(long v, String unit) {
        double base = unit.equals("B") ? 1024 : 1000;
        String[] prefixes = unit.equals("B") ? new String[]{"B", "KiB", "MiB", "GiB", "TiB"} : new String[]{"", "K", "M", "B", "T"};
        double x = v;
        int i = 0;
        while (x >= base && i < prefixes.length - 1) {
            x /= base;
            i++;
        }
        return String.format(java.util.Locale.ROOT, i == 0 ? "%.0f %s" : "%.2f %s", x, prefixes[i]).trim();
    }
}
