package dev.featherweight.kernels.capacity;

import dev.featherweight.catalog.capacity.CapacityException;
import dev.featherweight.catalog.capacity.ModelShape;
import dev.featherweight.catalog.capacity.ModelShapes;
import dev.featherweight.catalog.capacity.WeightsDType;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.ModelFiles;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.hf.LlamaConfig;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The kernels' adapter to the catalog's capacity math: reads a real artifact's files. A model to size: its shape and its weight bytes. From a real artifact (a Hugging Face folder, a GPTQ /
 * AWQ / bitsandbytes folder, a .gguf file) the bytes are the sum of the stored tensors — scales and zero
 * points included — so a Q4_K_M file counts ~4.9 bits per weight, not 4. From a config.json or a named
 * shape (e.g. "Llama-2-13B") they come from a nominal precision.
 *
 * @param source where the bytes came from: "artifact" or "nominal &lt;dtype&gt;"
 */
public record SizedModel(ModelShape shape, long weightsBytes, String source) {
    private static final ModelShapes SHAPES = ModelShapes.builtIn();

    /**
     * @param weightsDType null to use the artifact's real bytes when there is one (fp16 for a bare config);
     *                     otherwise a nominal precision from {@link WeightsDType}
     */
    public static SizedModel resolve(String pathOrShape, String weightsDType) {
        Path p = Path.of(pathOrShape);
        if (!Files.exists(p)) {
            ModelShapes.Entry e = SHAPES.find(pathOrShape);
            if (e != null) return nominal(e.shape(), weightsDType != null ? weightsDType : dtypeOf(e.torchDtype()));
            throw new CapacityException("no model at '" + pathOrShape + "' and no known shape of that name (known: "
                    + String.join(", ", SHAPES.names()) + ")");
        }
        String name = p.getFileName().toString();
        if (name.equals("config.json") && p.toAbsolutePath().getParent() != null) name = p.toAbsolutePath().getParent().getFileName().toString();
        if (Files.isRegularFile(p) && p.getFileName().toString().endsWith(".json")) {
            LlamaConfig c = LlamaConfig.read(p);
            return nominal(shapeOf(name, c), weightsDType != null ? weightsDType : dtypeOf(c.torchDtype()));
        }
        if (Files.isRegularFile(p) && name.toLowerCase(Locale.ROOT).endsWith(".gguf")) {
            name = name.substring(0, name.length() - 5);
            try (GgufFile g = GgufFile.open(p)) {
                ModelShape shape = shapeOf(name, LlamaConfig.fromGguf(g));
                return weightsDType != null ? nominal(shape, weightsDType) : new SizedModel(shape, tensorBytes(g), "artifact");
            }
        }
        if (Files.isDirectory(p)) {
            ModelShape shape = shapeOf(name, LlamaConfig.read(p));
            if (weightsDType != null || !SafetensorsModel.isModelFolder(p)) {
                return nominal(shape, weightsDType != null ? weightsDType : dtypeOf(LlamaConfig.read(p).torchDtype()));
            }
            try (TensorSource src = ModelFiles.open(p)) {
                return new SizedModel(shape, tensorBytes(src), "artifact");
            }
        }
        throw new FormatException(p, "expected a model folder, a .gguf file, a config.json or a shape name");
    }

    /** The catalog's shape of a config the kernels read (config.json or GGUF metadata). */
    public static ModelShape shapeOf(String name, LlamaConfig c) {
        return new ModelShape(name, c.layers(), c.hiddenSize(), c.heads(), c.kvHeads(), c.headDim(), c.intermediateSize(),
                c.vocabSize(), c.tieWordEmbeddings(), c.maxPositions(), c.attentionBias());
    }

    private static SizedModel nominal(ModelShape shape, String dtype) {
        String d = dtype == null ? "fp16" : dtype;
        return new SizedModel(shape, WeightsDType.bytes(shape, d), "nominal " + d);
    }

    private static String dtypeOf(String t) {
        if (t == null) return "fp16";
        return switch (t) {
            case "float32" -> "fp32";
            case "bfloat16" -> "bf16";
            default -> "fp16";
        };
    }

    /** Sum of every stored tensor's bytes. */
    public static long tensorBytes(TensorSource src) {
        long total = 0;
        for (String n : src.names()) total += src.tensor(n).data().byteSize();
        return total;
    }
}
