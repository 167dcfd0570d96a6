package dev.featherweight.kernels.formats.tokenizer;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A hand-made Llama-3-style tokenizer.json (test resource tokenizer/llama3): pre-tokenizer Sequence of
 * Split(Llama 3's regex, Isolated) and ByteLevel(use_regex false), a TemplateProcessing post-processor
 * that puts {@code <|begin_of_text|>} (44) first, 44 pieces and 20 merges. Ids 0–22 are single
 * characters (H e ' S Ġ 1 2 3 4 5 c a t s ! Ċ o k Ã © f d g; Ġ = space, Ċ = newline, "é" = UTF-8 C3 A9 = "Ã©"
 * in GPT-2's byte↔unicode map), 23–43 merged pieces. Merge ranks, lowest applied first:
 * <pre>
 *  0 H e → He(23)     5 Ġ c → Ġc(28)        10 Ċ Ċ → ĊĊ(33)       15 Ã © → Ã©(38)
 *  1 ' S → 'S(24)     6 a t → at(29)        11 !! ĊĊ → !!ĊĊ(34)   16 c a → ca(39)
 *  2 1 2 → 12(25)     7 Ġc at → Ġcat(30)    12 Ġ Ġ → ĠĠ(35)       17 Ġc a → Ġca(40)
 *  3 12 3 → 123(26)   8 Ġcat s → Ġcats(31)  13 o k → ok(36)       18 f Ã© → fÃ©(41)
 *  4 4 5 → 45(27)     9 ! ! → !!(32)        14 Ġ ok → Ġok(37)     19 Ġca fÃ© → ĠcafÃ©(42)
 * </pre>
 * plus "Ġdog"(43), a vocabulary word no merge reaches (what ignore_merges is for).
 */
class Llama3ByteLevelTest {
    static final String TEXT = "He'S 12345 cats!!\n\n  ok café dog\n";

    private static Path dir() throws Exception {
        return Path.of(Llama3ByteLevelTest.class.getResource("/tokenizer/llama3/tokenizer.json").toURI()).getParent();
    }

    @Test
    void splitsWithTheLlama3RegexAndMergesByRank() throws Exception {
        Tokenizer t = Tokenizer.fromHfFolder(dir());
        // Regex words: "He" | "'S" (case-insensitive contraction) | " " (a space before a digit stands alone) |
        // "123" "45" (digits in runs of at most 3) | " cats" | "!!\n\n" (punctuation takes trailing newlines) |
        // " " " ok" (\s+(?!\S) leaves the last space to the word) | " café" | " dog" | "\n".
        //   He: H e → He(23).  'S: ' S → 'S(24).  " " → Ġ(4).  123: 1 2 → 12, 12 3 → 123(26).  45 → 45(27).
        //   " cats": Ġ c a t s; Ġc(5) beats ca(16), then at(6), Ġcat(7), Ġcats(8) → 31.
        //   "!!\n\n": !!(9), ĊĊ(10), !!ĊĊ(11) → 34.  " " → 4 (ĠĠ never applies: the regex split the two spaces).
        //   " ok": ok(13), Ġok(14) → 37.
        //   " café": Ġ c a f Ã ©; Ġc(5), Ã©(15), Ġca(17), fÃ©(18), ĠcafÃ©(19) → 42 — "c a"(16) never gets its turn.
        //   " dog": no merges → Ġ d o g = 4 21 16 22.   "\n" → Ċ(15).
        int[] expected = {23, 24, 4, 26, 27, 31, 34, 4, 37, 42, 4, 21, 16, 22, 15};
        assertThat(t.encode(TEXT, false)).containsExactly(expected);
        assertThat(t.decode(expected)).isEqualTo(TEXT);
        // BOS comes from the post-processor template (no tokenizer_config.json here).
        assertThat(t.bosId()).isEqualTo(44);
        assertThat(t.addsBos()).isTrue();
        assertThat(t.encode("He")).containsExactly(44, 23);
        assertThat(t.decode(new int[]{44, 23})).isEqualTo("He");
        assertThat(t.decode(new int[]{44, 23}, false)).isEqualTo("<|begin_of_text|>He");
    }

    @Test
    void ignoreMergesTakesWholeVocabularyWords() throws Exception {
        JsonNode root = JsonMapper.builder().build().readTree(dir().resolve("tokenizer.json").toFile());
        ((ObjectNode) root.get("model")).put("ignore_merges", true);
        Tokenizer t = Tokenizer.fromJson(dir().resolve("tokenizer.json"), root, null);
        // Same words; " dog" is a vocabulary word (43) and is taken whole, the others come out as before.
        assertThat(t.encode(TEXT, false)).containsExactly(23, 24, 4, 26, 27, 31, 34, 4, 37, 42, 43, 15);
    }

    @Test
    void nonAsciiWithoutPiecesFallsBackToByteSymbolsOrFails() throws Exception {
        Tokenizer t = Tokenizer.fromHfFolder(dir());
        // "é" alone: its UTF-8 bytes map to Ã ©, which merge (rank 15) into 38.
        assertThat(t.encode("é", false)).containsExactly(38);
        // A byte with no symbol in this tiny vocabulary has no token and no unk: a clear error, not a wrong id.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> t.encode("z", false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'z'");
    }

    @Test
    void nfcNormalizerComposesBeforeSplitting() throws Exception {
        JsonNode root = JsonMapper.builder().build().readTree(dir().resolve("tokenizer.json").toFile());
        Tokenizer plain = Tokenizer.fromJson(dir().resolve("tokenizer.json"), root, null);
        ((ObjectNode) root).putObject("normalizer").put("type", "NFC");
        Tokenizer nfc = Tokenizer.fromJson(dir().resolve("tokenizer.json"), root, null);
        // "e" + U+0301 (combining acute) composes to "é" under NFC (Qwen2's normalizer): " café" is one piece again.
        assertThat(nfc.encode(" cafe\u0301", false)).containsExactly(42);
        // Without the normalizer, U+0301 (bytes CC 81) has no symbol in this vocabulary.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> plain.encode(" cafe\u0301", false)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void unsupportedNormalizersAndSplitBehavioursAreNamed() throws Exception {
        Path file = dir().resolve("tokenizer.json");
        JsonNode root = JsonMapper.builder().build().readTree(file.toFile());
        ((ObjectNode) root).putObject("normalizer").put("type", "Lowercase");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Tokenizer.fromJson(file, root, null))
                .isInstanceOf(dev.featherweight.kernels.formats.FormatException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("Lowercase");
        JsonNode root2 = JsonMapper.builder().build().readTree(file.toFile());
        ((ObjectNode) root2.get("pre_tokenizer").get("pretokenizers").get(0)).put("behavior", "Removed");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Tokenizer.fromJson(file, root2, null))
                .isInstanceOf(dev.featherweight.kernels.formats.FormatException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("Removed");
    }
}
