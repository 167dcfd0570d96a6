package dev.featherweight.kernels.formats.gguf;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** HF folder → GGUF must equal convert_hf_to_gguf.py's file byte for byte (SHA256SUMS of the golden files). */
class HfToGgufTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16"})
    void feather3mConvertsByteForByte(GgmlType type) throws Exception {
        Path out = tmp.resolve("feather-3m-" + type + ".gguf");
        HfToGguf.convert(SharedData.demoModel("feather-3m"), type, out);
        String name = "feather-3m-" + type + ".gguf";
        String expected = GoldenFiles.sums("golden/gguf").get(name);
        String actual = GoldenFiles.sha256(out);
        if (!expected.equals(actual)) {
            throw new AssertionError(name + ": sha256 " + actual + " != " + expected + "\n"
                    + GoldenFiles.firstDifference(SharedData.shared("golden/gguf/" + name), out));
        }
        assertThat(actual).isEqualTo(expected);
    }

    @Test
    void namingFollowsTheConvertersHeuristics() {
        GgufNaming f = GgufNaming.fromModelId("feather-3m", 3_279_104);
        assertThat(f.name()).isEqualTo("Feather 3m");
        assertThat(f.basename()).isEqualTo("feather");
        assertThat(f.sizeLabel()).isEqualTo("3M");
        GgufNaming hf = GgufNaming.fromModelId("hf", 6_556_928);
        assertThat(hf.name()).isEqualTo("Hf");
        assertThat(hf.basename()).isNull();
        assertThat(hf.sizeLabel()).isEqualTo("6.6M");
        GgufNaming llama = GgufNaming.fromModelId("meta-llama/Llama-2-7b-chat-hf", 6_738_415_616L);
        assertThat(llama.basename()).isEqualTo("Llama-2"); // a version right after the name belongs to the basename
        assertThat(llama.sizeLabel()).isEqualTo("7B");
    }
}
