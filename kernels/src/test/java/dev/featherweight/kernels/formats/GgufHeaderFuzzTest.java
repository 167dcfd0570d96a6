package dev.featherweight.kernels.formats;

import dev.featherweight.kernels.core.Tensor;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufTensorInfo;
import dev.featherweight.kernels.formats.hf.LlamaConfig;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzzes the GGUF header parser (and {@link LlamaConfig#fromGguf} and {@link ModelCheck} on what it accepts): whatever
 * the bytes, the result is a file whose tensors lie inside the input, or a {@link FormatException}.
 * Anything else — an index error, a ClassCastException from a mistyped key, an OutOfMemoryError from
 * a forged count — fails with the input that caused it. Runs in its own surefire execution (id "fuzz").
 */
class GgufHeaderFuzzTest {
    private static final Path LABEL = Path.of("fuzz.gguf");

    @FuzzTest(maxDuration = "20s")
    void fuzz(byte[] input) {
        MemorySegment bytes = MemorySegment.ofArray(input);
        GgufFile file;
        try {
            file = GgufFile.read(LABEL, bytes);
        } catch (FormatException e) {
            assertThat(e.getMessage()).startsWith(LABEL.toString());
            return;
        }
        assertThat(file.dataOffset() % file.alignment()).isZero();
        for (GgufTensorInfo info : file.tensorInfos()) {
            Tensor t = file.tensor(info.name());
            long offset = t.data().address() - bytes.address();
            assertThat(offset).isGreaterThanOrEqualTo(file.dataOffset());
            assertThat(offset + t.data().byteSize()).isLessThanOrEqualTo(input.length);
        }
        try {
            LlamaConfig.fromGguf(file);
        } catch (FormatException e) {
            assertThat(e.getMessage()).startsWith(LABEL.toString());
        }
        // the whole model check (layout, config, tensors against it, token list, values) refuses by FormatException only
        try {
            ModelCheck.check(file, null, true);
        } catch (FormatException e) {
            assertThat(e.getMessage()).startsWith(LABEL.toString()).doesNotContain("\n");
        }
    }
}
