package dev.featherweight.kernels.formats.gguf;

import dev.featherweight.kernels.formats.FormatException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer.ggml.* metadata convert_hf_to_gguf.py writes for a SentencePiece (Llama-2 style)
 * tokenizer: pieces, scores and token types from tokenizer.model, then the overrides of
 * tokenizer_config.json's added_tokens_decoder (special → CONTROL, else USER_DEFINED; score −1000),
 * then gguf-py's SpecialVocab: bos/eos/unk/sep/pad/cls/mask ids, add_bos/add_eos, chat template.
 */
final class GgufVocab {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private GgufVocab() {
    }

    static void sentencePiece(Path dir, int vocabSize, LinkedHashMap<String, GgufValue> kv) {
        Path model = dir.resolve("tokenizer.model");
        if (!Files.isRegularFile(model)) {
            throw new FormatException(model, "not found: GGUF conversion needs the SentencePiece tokenizer.model of a Llama-2 style tokenizer");
        }
        SentencePieceModel sp = SentencePieceModel.read(model);
        String[] tokens = new String[vocabSize];
        float[] scores = new float[vocabSize];
        int[] types = new int[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            tokens[i] = "[PAD" + i + "]";
            scores[i] = -10000.0f;
            types[i] = SentencePieceModel.UNUSED;
        }
        for (int id = 0; id < Math.min(vocabSize, sp.pieces().size()); id++) {
            SentencePieceModel.Piece p = sp.pieces().get(id);
            tokens[id] = p.piece();
            scores[id] = p.score();
            types[id] = switch (p.type()) {
                case SentencePieceModel.UNKNOWN, SentencePieceModel.CONTROL, SentencePieceModel.UNUSED, SentencePieceModel.BYTE -> p.type();
                default -> SentencePieceModel.NORMAL;
            };
        }
        Path tc = dir.resolve("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(tc) ? JSON.readTree(tc.toFile()) : null;
        if (config != null) {
            for (Map.Entry<String, JsonNode> e : config.path("added_tokens_decoder").properties()) {
                int id = Integer.parseInt(e.getKey());
                if (id >= vocabSize) continue;
                String content = e.getValue().path("content").asString();
                if (e.getValue().path("special").asBoolean(false) || looksSpecial(content)) {
                    types[id] = SentencePieceModel.CONTROL;
                } else {
                    content = content.replace('▁', ' ');
                    types[id] = SentencePieceModel.USER_DEFINED;
                }
                scores[id] = -1000.0f;
                tokens[id] = content;
            }
        }
        kv.put("tokenizer.ggml.model", GgufValue.string("llama"));
        kv.put("tokenizer.ggml.pre", GgufValue.string("default"));
        kv.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, Arrays.asList(tokens)));
        List<Object> sc = new ArrayList<>(vocabSize);
        for (float f : scores) sc.add(f);
        kv.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, sc));
        List<Object> ty = new ArrayList<>(vocabSize);
        for (int t : types) ty.add(t);
        kv.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, ty));
        specialVocab(dir, config, tokens, kv);
    }

    /** gguf-py's does_token_look_special: &lt;|…|&gt; and a few well-known markers. */
    private static boolean looksSpecial(String t) {
        return (t.startsWith("<|") && t.endsWith("|>")) || t.equals("<s>") || t.equals("</s>") || t.equals("<unk>") || t.equals("<pad>")
                || (t.startsWith("<｜") && t.endsWith("｜>"));
    }

    private static void specialVocab(Path dir, JsonNode config, String[] tokens, LinkedHashMap<String, GgufValue> kv) {
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (String type : new String[]{"bos", "eos", "unk", "sep", "pad", "cls", "mask"}) {
            String content = config == null ? null : tokenContent(config.get(type + "_token"));
            Integer id = null;
            if (content != null) {
                for (int i = 0; i < tokens.length; i++) {
                    if (tokens[i].equals(content)) {
                        id = i;
                        break;
                    }
                }
            }
            if (id == null && (type.equals("bos") || type.equals("eos"))) {
                JsonNode cfg = JSON.readTree(dir.resolve("config.json").toFile());
                JsonNode v = cfg.get(type + "_token_id");
                if (v != null && v.isIntegralNumber()) id = v.asInt();
            }
            if (id != null) ids.put(type, id);
        }
        Map<String, String> keys = Map.of("bos", "bos_token_id", "eos", "eos_token_id", "unk", "unknown_token_id", "sep", "seperator_token_id",
                "pad", "padding_token_id", "cls", "cls_token_id", "mask", "mask_token_id");
        ids.forEach((type, id) -> kv.put("tokenizer.ggml." + keys.get(type), GgufValue.uint32(id)));
        if (config != null) {
            if (config.has("add_bos_token")) kv.put("tokenizer.ggml.add_bos_token", GgufValue.bool(config.get("add_bos_token").asBoolean()));
            if (config.has("add_eos_token")) kv.put("tokenizer.ggml.add_eos_token", GgufValue.bool(config.get("add_eos_token").asBoolean()));
            JsonNode tpl = config.get("chat_template");
            if (tpl != null && tpl.isString()) kv.put("tokenizer.chat_template", GgufValue.string(tpl.asString()));
        }
    }

    private static String tokenContent(JsonNode n) {
        if (n == null || n.isNull()) return null;
        if (n.isObject()) return n.path("content").asString(null);
        return n.asString();
    }
}
