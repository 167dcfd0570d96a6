package dev.featherweight.kernels.formats;

import dev.featherweight.kernels.core.Tensor;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzzes the safetensors header parser: whatever the bytes, it either returns tensors that lie
 * inside the input or throws {@link FormatException}. Any other exception (an index error, a Jackson
 * exception leaking out, an OutOfMemoryError) fails the test with the input that caused it.
 * Runs in its own surefire execution (kernels/pom.xml, id "fuzz") with JAZZER_FUZZ=1 for a bounded
 * time; the default test run replays only the seeds in SafetensorsHeaderFuzzTestInputs/.
 */
class SafetensorsHeaderFuzzTest {
    private static final Path LABEL = Path.of("fuzz.safetensors");

    @FuzzTest(maxDuration = "20s")
    void fuzz(byte[] input) {
        MemorySegment bytes = MemorySegment.ofArray(input);
        SafetensorsFile file;
        try {
            file = SafetensorsFile.read(LABEL, bytes);
        } catch (FormatException e) {
            assertThat(e.getMessage()).startsWith(LABEL.toString());
            return;
        }
        for (String name : file.names()) {
            Tensor t = file.tensor(name);
            long offset = t.data().address() - bytes.address();
            assertThat(offset).isBetween(8L, (long) input.length);
            assertThat(offset + t.data().byteSize()).isLessThanOrEqualTo(input.length);
            assertThat(t.data().byteSize()).isEqualTo(t.elements() * t.type().typeSize);
        }
        assertThat(file.metadata()).doesNotContainKey(null);
    }
}
