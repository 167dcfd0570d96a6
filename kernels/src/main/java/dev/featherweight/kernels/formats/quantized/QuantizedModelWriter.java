package dev.featherweight.kernels.formats.quantized;

import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;
import dev.featherweight.kernels.formats.safetensors.SafetensorsWriter;
import dev.featherweight.kernels.formats.hf.HfModules;
import dev.featherweight.kernels.quant.QuantizedModule;
import dev.featherweight.kernels.quant.Recipe;
import dev.featherweight.kernels.quant.UniformGridParams;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a quantized Hugging Face folder block by block, resumably. Each finished block goes to the work
 * directory as {@code block-NNNNN.safetensors} (the block's tensors already in the target layout, with norms and
 * any biases) and, for calibrated methods, {@code hidden-NNNNN.bin} (the next block's inputs); {@code state.json}
 * records the fingerprint and the last finished block and is renamed into place last, so a run killed at any
 * moment restarts from the last complete block. {@link #finish} streams the block files, with the embedding, final
 * norm and lm_head copied from the source, into {@code model.safetensors} of the output folder, beside config.json
 * (with {@code quantization_config}), quantize_config.json for GPTQ, and the tokenizer files. The output folder is
 * assembled under a temporary name and renamed when complete.
 */
public final class QuantizedModelWriter implements BlockStore {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String[] COPIED = {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"};

    private final Path modelDir;
    private final TensorSource source;
    private final Recipe recipe;
    private final CheckpointLayout layout;
    private final Path workDir;
    private final String fingerprint;
    private final int layers;
    private final List<String> skipped = new ArrayList<>();
    private int last = -1;

    public QuantizedModelWriter(Path modelDir, TensorSource source, int layers, Recipe recipe, Path workDir, String fingerprint) {
        this.modelDir = modelDir;
        this.source = source;
        this.recipe = recipe;
        this.layout = CheckpointLayout.of(recipe);
        this.workDir = workDir;
        this.fingerprint = fingerprint;
        this.layers = layers;
        try {
            Files.createDirectories(workDir);
            Path state = workDir.resolve("state.json");
            if (Files.isRegularFile(state)) {
                JsonNode s = JSON.readTree(state.toFile());
                if (fingerprint.equals(s.path("fingerprint").asString(""))) {
                    last = s.path("last_block").asInt(-1);
                    for (JsonNode n : s.path("skipped")) skipped.add(n.asString());
                } else {
                    clearWorkDir();
                }
            }
        } catch (IOException e) {
            throw new FormatException(workDir, null, "cannot prepare the work folder: " + e.getMessage(), e);
        }
    }

    public CheckpointLayout layout() {
        return layout;
    }

    private void clearWorkDir() throws IOException {
        try (Stream<Path> s = Files.list(workDir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith("block-") || n.startsWith("hidden-") || n.equals("state.json") || n.startsWith(".")) Files.deleteIfExists(p);
            }
        }
    }

    /**
     * SHA-256 over what determines the output: the source config.json and every tensor (name, type, shape,
     * bytes), the recipe, and the calibration tokens.
     */
    public static String fingerprint(Path modelDir, TensorSource source, Recipe recipe, int[][] samples) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            Path cfg = modelDir.resolve("config.json");
            if (Files.isRegularFile(cfg)) md.update(Files.readAllBytes(cfg));
            for (String name : source.names()) {
                Tensor t = source.tensor(name);
                md.update((name + "|" + t.type() + "|" + java.util.Arrays.toString(t.shape())).getBytes(StandardCharsets.UTF_8));
                md.update(t.data().asByteBuffer());
            }
            md.update(recipe.canonical().getBytes(StandardCharsets.UTF_8));
            md.update(("layout-v1|" + CheckpointLayout.of(recipe)).getBytes(StandardCharsets.UTF_8));
            if (samples != null) {
                ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
                for (int[] s : samples) {
                    for (int tok : s) {
                        b.clear();
                        b.putInt(tok);
                        md.update(b.array());
                    }
                    md.update((byte) 0xFF);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Fails, naming every module, when the recipe would produce a tensor its layout cannot pack. */
    public static void checkPackable(TensorSource source, int layers, Recipe recipe) {
        CheckpointLayout layout = CheckpointLayout.of(recipe);
        List<String> bad = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            for (String suffix : HfModules.BY_BLOCK_MODULE.values()) {
                String module = "model.layers." + l + "." + suffix;
                Recipe.ModuleParams p = recipe.paramsFor(module);
                if (p == null) continue;
                Tensor t = source.tensor(module + ".weight");
                String why = layout.unpackableReason((int) t.rows(), (int) t.rowLength(), p.bits(), p.groupSize());
                if (why != null) bad.add(module + " [" + t.rows() + " x " + t.rowLength() + "]: " + why);
            }
        }
        if (!bad.isEmpty()) {
            throw new FormatException(source.path(), bad.getFirst().substring(0, bad.getFirst().indexOf(' ')),
                    "cannot write a " + layout + " checkpoint with " + recipe.params().bits() + " bits, group " + recipe.params().groupSize() + ": "
                            + String.join("; ", bad) + ". Refusing rather than writing a broken checkpoint; keep these modules with --skip REGEX"
                            + (recipe.params() instanceof UniformGridParams ? " or change --bits/--group-size (--override REGEX=bits:8 for GPTQ)" : ""));
        }
    }

    @Override
    public int lastFinishedBlock() {
        return last;
    }

    @Override
    public float[][] loadHidden(int layer) {
        Path p = workDir.resolve(String.format("hidden-%05d.bin", layer));
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (head.hasRemaining()) if (ch.read(head) < 0) throw new IOException("truncated");
            head.flip();
            int n = head.getInt(), len = head.getInt();
            float[][] h = new float[n][len];
            ByteBuffer b = ByteBuffer.allocate(4 * len).order(ByteOrder.LITTLE_ENDIAN);
            for (int s = 0; s < n; s++) {
                b.clear();
                while (b.hasRemaining()) if (ch.read(b) < 0) throw new IOException("truncated");
                b.flip();
                b.asFloatBuffer().get(h[s]);
            }
            return h;
        } catch (IOException e) {
            throw new FormatException(p, null, "cannot read saved hidden states: " + e.getMessage(), e);
        }
    }

    @Override
    public void saveBlock(BlockResult r, float[][] nextHidden) {
        int l = r.layer();
        String prefix = "model.layers." + l + ".";
        List<TensorData> tensors = new ArrayList<>();
        Map<String, Boolean> produced = new LinkedHashMap<>();
        for (Map.Entry<String, QuantizedModule> e : r.modules().entrySet()) {
            String module = prefix + e.getKey();
            QuantizedModule m = e.getValue();
            if (m instanceof QuantizedModule.Kept && !skipped.contains(module)) skipped.add(module);
            Tensor src = source.tensor(module + ".weight");
            for (TensorData t : layout.moduleTensors(module, m, src.type(), recipe)) tensors.add(t);
            produced.put(module + ".weight", true);
        }
        if (r.attnNorm() != null) tensors.add(replaced(prefix + "input_layernorm.weight", r.attnNorm(), produced));
        if (r.ffnNorm() != null) tensors.add(replaced(prefix + "post_attention_layernorm.weight", r.ffnNorm(), produced));
        if (r.vBias() != null) tensors.add(replaced(prefix + "self_attn.v_proj.bias", r.vBias(), produced));
        for (String name : source.names()) {
            if (name.startsWith(prefix) && !produced.containsKey(name)) tensors.add(copy(source.tensor(name)));
        }
        try {
            writeSafetensors(workDir, String.format("block-%05d", l), tensors);
            if (nextHidden != null) {
                Path tmp = workDir.resolve(".hidden.tmp");
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                    ByteBuffer head = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(nextHidden.length).putInt(nextHidden[0].length).flip();
                    while (head.hasRemaining()) ch.write(head);
                    ByteBuffer b = ByteBuffer.allocate(4 * nextHidden[0].length).order(ByteOrder.LITTLE_ENDIAN);
                    for (float[] h : nextHidden) {
                        b.clear();
                        b.asFloatBuffer().put(h);
                        while (b.hasRemaining()) ch.write(b);
                    }
                    ch.force(false);
                }
                Files.move(tmp, workDir.resolve(String.format("hidden-%05d.bin", l)), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            ObjectNode s = JSON.createObjectNode();
            s.put("fingerprint", fingerprint);
            s.put("last_block", l);
            s.put("layers", layers);
            var arr = s.putArray("skipped");
            skipped.forEach(arr::add);
            Path tmp = workDir.resolve(".state.tmp");
            Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s));
            Files.move(tmp, workDir.resolve("state.json"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Files.deleteIfExists(workDir.resolve(String.format("hidden-%05d.bin", l - 1)));
            last = l;
        } catch (IOException e) {
            throw new FormatException(workDir, prefix, "cannot save the block state: " + e.getMessage(), e);
        }
    }

    private TensorData replaced(String name, float[] v, Map<String, Boolean> produced) {
        produced.put(name, true);
        return TensorData.floatsAs(name, source.tensor(name).type(), source.tensor(name).shape(), v);
    }

    private static TensorData copy(Tensor t) {
        return new TensorData(t.name(), t.type(), t.shape(), t.data().toArray(ValueLayout.JAVA_BYTE));
    }

    private static void writeSafetensors(Path dir, String base, List<TensorData> tensors) {
        List<SafetensorsWriter.Spec> specs = new ArrayList<>();
        for (TensorData t : tensors) specs.add(new SafetensorsWriter.Spec(t.name(), t.type(), t.shape()));
        try (SafetensorsWriter w = SafetensorsWriter.create(dir, base, specs, Map.of("format", "pt"), 0)) {
            for (TensorData t : tensors) w.write(t.name(), t.bytes());
            w.finish();
        }
    }

    /** The modules kept unquantized so far (full names). */
    public List<String> skippedModules() {
        return List.copyOf(skipped);
    }

    /**
     * Assembles the output folder from the finished blocks. {@code out} must not exist or be empty; it is
     * written as a sibling temporary folder and renamed.
     */
    public List<Path> finish(Path out) {
        if (last != layers - 1) throw new IllegalStateException("only " + (last + 1) + " of " + layers + " blocks are finished");
        try {
            if (Files.isDirectory(out)) {
                try (Stream<Path> s = Files.list(out)) {
                    if (s.findAny().isPresent()) throw new FormatException(out, null, "output folder exists and is not empty");
                }
                Files.delete(out);
            }
            Path tmp = dev.featherweight.kernels.formats.OutputLock.tempFor(out); // one per process: runs on one --out lock it (QuantizeJob)
            if (Files.exists(tmp)) deleteTree(tmp);
            Files.createDirectories(tmp);
            List<SafetensorsFile> blocks = new ArrayList<>();
            try {
                List<SafetensorsWriter.Spec> specs = new ArrayList<>();
                List<Tensor> order = new ArrayList<>();
                List<String> head = new ArrayList<>(), tail = new ArrayList<>();
                for (String n : source.names()) {
                    if (n.startsWith("model.layers.")) continue;
                    (n.startsWith("model.embed_tokens") ? head : tail).add(n);
                }
                for (String n : head) order.add(source.tensor(n));
                for (int l = 0; l < layers; l++) {
                    SafetensorsFile f = SafetensorsFile.open(workDir.resolve(String.format("block-%05d.safetensors", l)));
                    blocks.add(f);
                    for (String n : f.names()) order.add(f.tensor(n));
                }
                for (String n : tail) order.add(source.tensor(n));
                for (Tensor t : order) specs.add(new SafetensorsWriter.Spec(t.name(), t.type(), t.shape()));
                try (SafetensorsWriter w = SafetensorsWriter.create(tmp, "model", specs, Map.of("format", "pt"), 0)) {
                    for (Tensor t : order) w.write(t.name(), t.data());
                    w.finish();
                }
            } finally {
                for (SafetensorsFile f : blocks) f.close();
            }
            ObjectNode config = (ObjectNode) JSON.readTree(modelDir.resolve("config.json").toFile());
            var srcType = source.tensor("model.layers.0." + HfModules.BY_BLOCK_MODULE.get("attn_q") + ".weight").type();
            config.set("quantization_config", layout.quantizationConfig(recipe, srcType, skipped));
            Files.writeString(tmp.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
            if (layout == CheckpointLayout.GPTQ) {
                Files.writeString(tmp.resolve("quantize_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(layout.quantizeConfigJson(recipe)));
            }
            if (layout == CheckpointLayout.COMPRESSED_TENSORS) {
                Files.writeString(tmp.resolve("recipe.yaml"), CompressedTensorsLayout.recipeYaml((dev.featherweight.kernels.quant.CompressedTensorsParams) recipe.params(), skipped));
            }
            for (String f : COPIED) {
                Path p = modelDir.resolve(f);
                if (Files.isRegularFile(p)) Files.copy(p, tmp.resolve(f));
            }
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            try (Stream<Path> s = Files.list(out)) {
                return s.sorted().toList();
            }
        } catch (IOException e) {
            throw new FormatException(out, null, "cannot write the quantized folder: " + e.getMessage(), e);
        }
    }

    public static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
