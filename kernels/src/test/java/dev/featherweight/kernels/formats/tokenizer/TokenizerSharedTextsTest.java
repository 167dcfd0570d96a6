package dev.featherweight.kernels.formats.tokenizer;

import dev.featherweight.kernels.SharedData;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The tok512 tokenizer against the shared token files, made by the reference tokenizers (README in ../shared/eval). */
class TokenizerSharedTextsTest {
    static final String STORY_SEPARATOR = "\n<|endoftext|>\n";

    static int[] readTokens(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int[] ids = new int[b.remaining() / 4];
        b.asIntBuffer().get(ids);
        return ids;
    }

    private static Tokenizer tok512() {
        return Tokenizer.fromHfFolder(SharedData.demoModel("feather-3m"));
    }

    @Test
    void wikitextTokenFilesAreBosPlusTheWholeText() throws IOException {
        Tokenizer t = tok512();
        assertThat(t.addsBos()).isTrue();
        assertThat(t.bosId()).isEqualTo(1);
        assertThat(t.eosId()).isEqualTo(2);
        for (String name : List.of("dev.wikitext", "train.wikitext")) {
            String text = Files.readString(SharedData.shared("eval/" + name + ".txt"));
            int[] expected = readTokens(SharedData.shared("eval/" + name + ".tokens.u32"));
            assertSameTokens(name, t.encode(text), expected);
        }
    }

    @Test
    void tinyStoriesTokenFilesHaveBosAtEachStory() throws IOException {
        Tokenizer t = tok512();
        for (String name : List.of("dev.tinystories", "train.tinystories")) {
            String text = Files.readString(SharedData.shared("eval/" + name + ".txt"));
            int[] expected = readTokens(SharedData.shared("eval/" + name + ".tokens.u32"));
            List<Integer> ids = new ArrayList<>();
            // The rule that reproduces the files: stories between separators, surrounding whitespace stripped.
            for (String raw : text.split(java.util.regex.Pattern.quote(STORY_SEPARATOR), -1)) {
                String story = raw.strip();
                if (story.isEmpty()) continue;
                for (int id : t.encode(story)) ids.add(id);
            }
            assertSameTokens(name, ids.stream().mapToInt(Integer::intValue).toArray(), expected);
        }
    }

    @Test
    void rawTextCountsEqualLlamaCppTokenization() throws IOException {
        Tokenizer t = tok512();
        JsonNode texts = JsonMapper.builder().build().readTree(SharedData.shared("reference/perplexity.json").toFile()).get("texts");
        int checked = 0;
        for (var e : texts.properties()) {
            JsonNode tok = e.getValue().get("llamacpp_tokenization");
            if (tok == null) continue;
            Path file = SharedData.shared("eval/" + e.getValue().get("text_file").asString());
            if (!Files.exists(file)) continue;
            int[] ids = t.encode(Files.readString(file));
            assertThat(ids.length).as(e.getKey()).isEqualTo(tok.get("llamacpp_tokens").asInt());
            checked++;
        }
        assertThat(checked).isGreaterThanOrEqualTo(2);
    }

    @Test
    void decodeInvertsEncode() throws IOException {
        Tokenizer t = tok512();
        String text = Files.readString(SharedData.shared("eval/dev.wikitext.txt"));
        assertThat(t.decode(t.encode(text))).isEqualTo(text);
        for (String s : List.of("Hello world", "  two leading spaces", "naïve café — 日本語 🙂", "tabs\tand\nnewlines\n")) {
            assertThat(t.decode(t.encode(s))).as(s).isEqualTo(s);
        }
        // Characters outside the 512-piece vocabulary go through byte fallback, never <unk>.
        int[] emoji = t.encode("🙂", false);
        assertThat(emoji).doesNotContain(0);
        assertThat(Arrays.stream(emoji).mapToObj(t::tokenPiece)).contains("<0xF0>", "<0x9F>", "<0x99>", "<0x82>");
    }

    private static void assertSameTokens(String what, int[] actual, int[] expected) {
        int n = Math.min(actual.length, expected.length);
        for (int i = 0; i < n; i++) {
            if (actual[i] != expected[i]) {
                int from = Math.max(0, i - 5);
                throw new AssertionError(what + ": first difference at token " + i + ": expected " + Arrays.toString(Arrays.copyOfRange(expected, from, Math.min(expected.length, i + 6)))
                        + " but got " + Arrays.toString(Arrays.copyOfRange(actual, from, Math.min(actual.length, i + 6))));
            }
        }
        assertThat(actual.length).as(what + " token count").isEqualTo(expected.length);
    }
}
