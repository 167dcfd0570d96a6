package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.core.Parallel;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.ModelCheck;
import dev.featherweight.kernels.formats.ModelFiles;
import dev.featherweight.kernels.formats.TensorSource;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufValue;
import dev.featherweight.kernels.formats.hf.LlamaConfig;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Opens a model path — a Hugging Face folder (config.json + safetensors) or a .gguf file — as a
 * {@link LoadedModel}: the {@link LlamaModel} with its tokenizer. What differs by source:
 * <ul>
 *   <li>tensor names: HF {@code model.layers.N.self_attn.q_proj.weight} vs GGUF {@code blk.N.attn_q.weight};</li>
 *   <li>RoPE pairing: HF checkpoints rotate halves; llama.cpp's converter un-permutes Q/K of llama/mistral so
 *   GGUF llama rotates interleaved pairs (qwen2 GGUF keeps rotate-half, as llama.cpp's NEOX rope type);</li>
 *   <li>BOS: tokenizer_config.json {@code add_bos_token} vs GGUF {@code tokenizer.ggml.add_bos_token}.</li>
 * </ul>
 * The tokenizer comes from tokenizer.json in the model folder, or in {@code tokenizerDir} when given (a .gguf
 * file is usually evaluated with the tokenizer of the folder it was converted from); a .gguf file with no
 * tokenizer.json beside it uses its own {@code tokenizer.ggml.*} metadata.
 */
public final class ModelLoader {
    private ModelLoader() {
    }

    public static LoadedModel open(Path path, Path tokenizerDir, Parallel pool) {
        return open(path, tokenizerDir, pool, UnaryOperator.identity());
    }

    /** As {@link #open(Path, Path, Parallel)}, reading the weights through {@code weights} (e.g. a {@link RequantizedSource}). */
    public static LoadedModel open(Path path, Path tokenizerDir, Parallel pool, UnaryOperator<TensorSource> weights) {
        TensorSource src = ModelFiles.open(path);
        try {
            LlamaConfig hf;
            LlamaModel.Naming naming;
            LlamaModel.RopeLayout rope;
            Boolean addBos = null;
            // the one model check: config, tensors, tokenizer and values, before anything is built from them
            hf = ModelCheck.check(src, tokenizerDir, true);
            Path dir = ModelCheck.folderOf(path); // a bare file name has no parent
            if (src instanceof GgufFile g) {
                naming = LlamaModel.Naming.GGUF;
                rope = hf.architecture().equals("qwen2") ? LlamaModel.RopeLayout.ROTATE_HALF : LlamaModel.RopeLayout.INTERLEAVED;
                GgufValue ab = g.get("tokenizer.ggml.add_bos_token");
                addBos = ab != null ? ab.asBoolean() : !hf.architecture().equals("qwen2");
            } else {
                src = QuantizedWeights.wrapIfQuantized(src, dir);
                naming = LlamaModel.Naming.HF;
                rope = LlamaModel.RopeLayout.ROTATE_HALF;
                addBos = readAddBos(dir);
            }
            Path tokDir = tokenizerDir != null ? tokenizerDir : dir;
            if (tokenizerDir != null || addBos == null) {
                Boolean fromTok = readAddBos(tokDir);
                if (addBos == null) addBos = fromTok;
            }
            if (addBos == null) addBos = !hf.architecture().equals("qwen2");
            LlamaModel.Config c = config(hf, rope, addBos);
            LlamaModel model = LlamaModel.load(c, weights.apply(src), naming, pool);
            Function<String, int[]> enc = null;
            Function<int[], String> dec = null;
            TextCodec codec = null;
            if (Files.isRegularFile(tokDir.resolve("tokenizer.json"))) {
                codec = TextCodec.forFolder(tokDir, addBos);
            } else if (src instanceof GgufFile g && g.get("tokenizer.ggml.model") != null) {
                // no tokenizer.json beside the file: its own tokenizer.ggml.* metadata, as llama.cpp uses
                codec = TextCodec.forGguf(g, addBos);
            }
            if (codec != null) {
                enc = codec::encode;
                dec = codec::decode;
            }
            return new LoadedModel(model, enc, dec);
        } catch (RuntimeException e) {
            src.close();
            throw e;
        }
    }

    /** The forward pass's view of a formats {@link LlamaConfig}. */
    public static LlamaModel.Config config(LlamaConfig hf, LlamaModel.RopeLayout rope, boolean addBos) {
        LlamaModel.Llama3Rope l3 = hf.ropeScaling() == null ? null : new LlamaModel.Llama3Rope(hf.ropeScaling().factor(),
                hf.ropeScaling().lowFreqFactor(), hf.ropeScaling().highFreqFactor(), hf.ropeScaling().originalMaxPositions());
        return new LlamaModel.Config(hf.architecture(), hf.hiddenSize(), hf.intermediateSize(), hf.layers(), hf.heads(), hf.kvHeads(),
                hf.headDim(), hf.vocabSize(), (float) hf.rmsNormEps(), hf.ropeTheta(), l3, rope, hf.bosTokenId(), hf.eosTokenId(), addBos,
                hf.maxPositions());
    }

    private static Boolean readAddBos(Path dir) {
        Path f = dir.resolve("tokenizer_config.json");
        if (!Files.isRegularFile(f)) return null;
        try {
            JsonNode j = JsonMapper.builder().build().readTree(f.toFile());
            JsonNode v = j.get("add_bos_token");
            return v == null || v.isNull() ? null : v.asBoolean();
        } catch (RuntimeException e) {
            throw new FormatException(f, null, "cannot read tokenizer_config.json: " + e.getMessage(), e);
        }
    }
}
