package dev.featherweight.kernels.formats;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.hf.LlamaConfig;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzzes the model check's JSON inputs: config.json (first input byte even) or tokenizer.json (odd), the rest
 * of the input being the file, beside feather-3m's real weights and other files. Whatever the text, {@link ModelCheck}
 * accepts a model the weights match or throws a {@link FormatException} naming a file of the folder; any other exception
 * (a Jackson node exception, an arithmetic error, an OutOfMemoryError from a forged size) fails with the input.
 * Runs in the surefire execution "fuzz" like the header fuzzers; seeds in ModelFolderFuzzTestInputs/.
 */
class ModelFolderFuzzTest {
    private static Path dir;

    private static synchronized Path folder() throws IOException {
        if (dir == null) {
            Path feather = SharedData.demoModel("feather-3m");
            dir = Files.createTempDirectory("fw-model-fuzz");
            Files.createSymbolicLink(dir.resolve("model.safetensors"), feather.resolve("model.safetensors").toAbsolutePath());
            for (String f : new String[]{"config.json", "tokenizer.json", "tokenizer_config.json"}) Files.copy(feather.resolve(f), dir.resolve(f));
        }
        return dir;
    }

    @FuzzTest(maxDuration = "20s")
    void fuzz(byte[] input) throws IOException {
        if (input.length == 0) return;
        Path d = folder();
        Path feather = SharedData.demoModel("feather-3m");
        boolean tokenizer = (input[0] & 1) == 1;
        byte[] text = Arrays.copyOfRange(input, 1, input.length);
        Files.write(d.resolve("config.json"), tokenizer ? Files.readAllBytes(feather.resolve("config.json")) : text);
        Files.write(d.resolve("tokenizer.json"), tokenizer ? text : Files.readAllBytes(feather.resolve("tokenizer.json")));
        try (SafetensorsModel m = SafetensorsModel.open(d)) {
            LlamaConfig c = ModelCheck.check(m, null, false);
            // accepted: then the weights really have the shapes of this config
            assertThat(m.tensor("model.embed_tokens.weight").shape()).containsExactly(c.vocabSize(), c.hiddenSize());
        } catch (FormatException e) {
            assertThat(e.getMessage()).startsWith(d.toString());
            assertThat(e.getMessage()).doesNotContain("\n");
        }
    }
}
