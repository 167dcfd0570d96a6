package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.ModelFiles;
import dev.featherweight.kernels.formats.TensorSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * llama-quantize's F16/BF16 copies (*.from-quantize.gguf) differ from the converter's files only in tensor order
 * and KVs; their tensors are byte-identical, so PerplexityLlamaCppTest's evaluation of the converter's files
 * covers them.
 */
class GoldenGgufDuplicatesTest {
    @ParameterizedTest
    @ValueSource(strings = {"feather-3m-F16", "feather-3m-BF16"})
    void fromQuantizeCopiesHoldTheConvertersTensors(String base) {
        Path dir = SharedData.shared("golden/gguf");
        try (TensorSource x = ModelFiles.open(dir.resolve(base + ".from-quantize.gguf")); TensorSource y = ModelFiles.open(dir.resolve(base + ".gguf"))) {
            assertThat(x.names()).containsExactlyInAnyOrderElementsOf(y.names());
            for (String n : x.names()) {
                var tx = x.tensor(n);
                var ty = y.tensor(n);
                assertThat(tx.type()).as(n).isEqualTo(ty.type());
                assertThat(tx.shape()).as(n).containsExactly(ty.shape());
                assertThat(tx.data().mismatch(ty.data())).as(n).isEqualTo(-1L);
            }
        }
    }
}
