package dev.featherweight.kernels.formats.tokenizer;

import dev.featherweight.kernels.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A hand-made GPT-2-style byte-level BPE (test resource tokenizer/bytelevel): 28 pieces, 12 merges.
 * Expected ids are worked out by hand from the merge ranks in the comments.
 */
class ByteLevelBpeTest {
    static Tokenizer fixture() throws URISyntaxException {
        return Tokenizer.fromHfFolder(Path.of(ByteLevelBpeTest.class.getResource("/tokenizer/bytelevel/tokenizer.json").toURI()).getParent());
    }

    @Test
    void mergesByRankWithinRegexWords() throws Exception {
        Tokenizer t = fixture();
        // GPT-2 regex words: "hello" " world" "'s" " 1234" "!" "\n".
        // "hello": h e l l o → he (rank 0), ll (1), hell (2), hello (3) → 19.
        // " world": Ġ w o r l d → Ġw (4), or (5), Ġwor (6), ld (7), Ġworld (8) → 24.
        // "'s" → 25. " 1234": "1 2" has rank 10 < "Ġ 1" rank 11, so 12 merges first and Ġ stays alone → 4 26 12 13.
        // "!" → 14, "\n" (byte 0x0A ↦ Ċ) → 15.
        assertThat(t.encode("hello world's 1234!\n", false)).containsExactly(19, 24, 25, 4, 26, 12, 13, 14, 15);
        assertThat(t.decode(new int[]{19, 24, 25, 4, 26, 12, 13, 14, 15})).isEqualTo("hello world's 1234!\n");
    }

    @Test
    void specialTokensAreMatchedBeforeTheModelAndSkippedWhenDecoding() throws Exception {
        Tokenizer t = fixture();
        assertThat(t.encode("hello<|endoftext|>hello", false)).containsExactly(19, 28, 19);
        assertThat(t.decode(new int[]{19, 28, 19})).isEqualTo("hellohello");
        assertThat(t.decode(new int[]{19, 28, 19}, false)).isEqualTo("hello<|endoftext|>hello");
    }

    @Test
    void unsupportedModelsAreNamed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}");
        assertThatThrownBy(() -> Tokenizer.fromHfFolder(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("Unigram");
    }

    @Test
    void damagedTokenizerJsonIsNamedNotAllocated(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":2000000000},\"merges\":[]}}");
        assertThatThrownBy(() -> Tokenizer.fromHfFolder(dir)).isInstanceOf(FormatException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("ids go up to 2000000000");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{\"type\":\"BPE\",\"merges\":[]}}");
        assertThatThrownBy(() -> Tokenizer.fromHfFolder(dir)).isInstanceOf(FormatException.class).hasMessageContaining("model.vocab");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-3},\"merges\":[]}}");
        assertThatThrownBy(() -> Tokenizer.fromHfFolder(dir)).isInstanceOf(FormatException.class).hasMessageContaining("piece 'a' has id -3");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a b\"]}}");
        assertThatThrownBy(() -> Tokenizer.fromHfFolder(dir)).isInstanceOf(FormatException.class).hasMessageContaining("merge 'a b'");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\":{\"type\":");
        assertThatThrownBy(() -> Tokenizer.fromHfFolder(dir)).isInstanceOf(FormatException.class).hasMessageContaining("malformed JSON");
    }
}
