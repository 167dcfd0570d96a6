package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufTensorInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The IQ2/IQ1 block types against llama-quantize's files for feather-3m with the shared imatrix
 * (../shared/golden/gguf-iq): every tensor of those types in the six golden files, quantized here from the same
 * F32 rows and imatrix entry, is byte-identical; decoding round-trips through the codec's own bytes.
 */
class IqLowBitGoldenTest {
    private static final Set<GgmlType> TYPES = EnumSet.of(GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ2_S, GgmlType.IQ1_S, GgmlType.IQ1_M);
    private static final List<String> FILES = List.of("IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ1_S", "IQ1_M");
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static GgufFile source;
    private static Map<String, float[]> imatrix;

    @BeforeAll
    static void open() throws java.io.IOException {
        Path dir = SharedData.shared("golden/gguf");
        source = GgufFile.open(dir.resolve("feather-3m-F32.gguf"));
        imatrix = ImatrixDat.load(dir.resolve("feather-3m.imatrix"));
    }

    @AfterAll
    static void close() {
        source.close();
    }

    @TestFactory
    Stream<DynamicNode> tensorsMatchLlamaQuantize() {
        return FILES.stream().map(ftype -> {
            GgufFile golden = GgufFile.open(SharedData.shared("golden/gguf-iq").resolve("feather-3m-" + ftype + ".imatrix.gguf"));
            List<DynamicNode> tests = new ArrayList<>();
            for (GgufTensorInfo t : golden.tensorInfos()) {
                if (!TYPES.contains(t.type())) continue;
                tests.add(DynamicTest.dynamicTest(t.name() + " " + t.type(), () -> GgufGoldenTensorTest.assertSameBytes(golden, t,
                        source.tensor(t.name()).data().toArray(F32_LE), imatrix.get(t.name()))));
            }
            assertThat(tests).as(ftype).isNotEmpty();
            return DynamicContainer.dynamicContainer(ftype, tests);
        });
    }

    @Test
    void typesThatNeedAnImatrixRefuseToQuantizeWithoutOne() {
        float[] row = source.tensor("blk.0.attn_q.weight").data().asSlice(0, 256 * 4).toArray(F32_LE);
        try (Arena arena = Arena.ofConfined()) {
            for (GgmlType type : List.of(GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ1_S)) {
                GgufBlockCodec codec = GgufBlockCodecs.of(type);
                MemorySegment dst = arena.allocate(codec.rowBytes(256));
                assertThatThrownBy(() -> codec.quantizeRow(row, 0, 256, dst, 0, null))
                        .isInstanceOf(ImportanceMatrixRequiredException.class).hasMessageContaining(type.name());
                assertThat(GgufBlockCodecs.requiresImatrix(type)).isTrue();
            }
        }
    }
}
