package dev.featherweight.kernels.formats.tokenizer;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.FormatException;
import dev.featherweight.kernels.formats.gguf.GgufValue;
import dev.featherweight.kernels.formats.gguf.GgufValueType;
import dev.featherweight.kernels.formats.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The tokenizer llama.cpp reads from GGUF metadata. For tok512, llama.cpp's SPM merges by piece score
 * while tokenizer.json's BPE merges by rank; on the shared texts both must give the same ids (that is
 * why llama-perplexity on the raw text is comparable with the token files).
 */
class TokenizerGgufTest {

    @Test
    void ggufSentencePieceMatchesTokenizerJsonAndTheTokenFiles() throws IOException {
        Tokenizer gguf = Tokenizer.fromGguf(SharedData.shared("golden/gguf/feather-3m-F32.gguf"));
        Tokenizer json = Tokenizer.fromHfFolder(SharedData.demoModel("feather-3m"));
        assertThat(gguf.vocabSize()).isEqualTo(512);
        assertThat(gguf.bosId()).isEqualTo(1);
        assertThat(gguf.eosId()).isEqualTo(2);
        assertThat(gguf.addsBos()).isTrue();
        for (int id = 0; id < 512; id++) assertThat(gguf.tokenPiece(id)).isEqualTo(json.tokenPiece(id));
        for (String name : List.of("dev.wikitext", "train.wikitext")) {
            String text = Files.readString(SharedData.shared("eval/" + name + ".txt"));
            int[] ids = gguf.encode(text);
            assertThat(ids).as(name).isEqualTo(TokenizerSharedTextsTest.readTokens(SharedData.shared("eval/" + name + ".tokens.u32")));
            assertThat(gguf.decode(ids)).as(name).isEqualTo(text);
        }
        for (String name : List.of("dev.tinystories", "train.tinystories")) {
            String text = Files.readString(SharedData.shared("eval/" + name + ".txt"));
            assertThat(gguf.encode(text)).as(name).isEqualTo(json.encode(text));
        }
        for (String s : List.of("naïve café — 日本語 🙂", "  two leading spaces", "tabs\tand\nnewlines\n")) {
            assertThat(gguf.encode(s)).as(s).isEqualTo(json.encode(s));
            assertThat(gguf.decode(gguf.encode(s))).as(s).isEqualTo(s);
        }
    }

    /** The byte-level fixture written as a GGUF "gpt2" vocabulary, as convert_hf_to_gguf.py would. */
    @Test
    void ggufGpt2VocabularyEncodesLikeTheTokenizerJson(@TempDir Path dir) throws Exception {
        Tokenizer json = ByteLevelBpeTest.fixture();
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (int id = 0; id < json.vocabSize(); id++) {
            tokens.add(json.tokenPiece(id));
            types.add(json.tokenPiece(id).equals("<|endoftext|>") ? 3 : 1);
        }
        List<String> merges = List.of("h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld", "' s", "1 2", "Ġ 1");
        var kv = new LinkedHashMap<String, GgufValue>();
        kv.put("general.architecture", GgufValue.string("llama"));
        kv.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        kv.put("tokenizer.ggml.pre", GgufValue.string("gpt-2"));
        kv.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        kv.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        kv.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, merges));
        kv.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(28));
        kv.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(28));
        Path file = dir.resolve("bytelevel.gguf");
        GgufWriter.write(file, kv, List.of());
        Tokenizer gguf = Tokenizer.fromGguf(file);
        assertThat(gguf.addsBos()).isFalse(); // llama.cpp's default for BPE vocabularies without add_bos_token
        String text = "hello world's 1234!\nhello<|endoftext|>hello";
        assertThat(gguf.encode(text, false)).isEqualTo(json.encode(text, false)).containsExactly(19, 24, 25, 4, 26, 12, 13, 14, 15, 19, 28, 19);
        assertThat(gguf.decode(gguf.encode(text))).isEqualTo("hello world's 1234!\nhellohello");
    }

    @Test
    void unsupportedGgufVocabulariesAreNamed(@TempDir Path dir) {
        var kv = new LinkedHashMap<String, GgufValue>();
        kv.put("general.architecture", GgufValue.string("bert"));
        kv.put("tokenizer.ggml.model", GgufValue.string("bert"));
        kv.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, Arrays.asList("[PAD]", "[UNK]")));
        Path file = dir.resolve("wordpiece.gguf");
        GgufWriter.write(file, kv, List.of());
        assertThatThrownBy(() -> Tokenizer.fromGguf(file)).isInstanceOf(FormatException.class)
                .hasMessageContaining("wordpiece.gguf").hasMessageContaining("tokenizer.ggml.model 'bert'");

        var noVocab = new LinkedHashMap<String, GgufValue>();
        noVocab.put("general.architecture", GgufValue.string("llama"));
        Path bare = dir.resolve("weights-only.gguf");
        GgufWriter.write(bare, noVocab, List.of());
        assertThatThrownBy(() -> Tokenizer.fromGguf(bare)).isInstanceOf(FormatException.class)
                .hasMessageContaining("weights-only.gguf").hasMessageContaining("no tokenizer.ggml.model");
    }
}
