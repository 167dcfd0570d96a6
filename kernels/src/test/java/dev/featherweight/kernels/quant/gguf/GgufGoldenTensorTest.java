package dev.featherweight.kernels.quant.gguf;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.gguf.GgufTensorInfo;
import dev.featherweight.kernels.core.GgmlType;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The strongest test there is for the block codecs: every quantized tensor of every golden file that
 * llama.cpp's llama-quantize wrote (../shared/golden/gguf), re-quantized here from the same F32 rows,
 * must be byte-identical. On a mismatch the message names the tensor, row, block, both blocks' bytes and
 * their fp16 scales.
 */
class GgufGoldenTensorTest {
    private static final List<String> FEATHER_TYPES = List.of("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K",
            "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "F16", "BF16",
            "F16.from-quantize", "BF16.from-quantize");
    private static final List<String> IMATRIX_TYPES = List.of("Q2_K", "Q3_K_S", "Q4_K_M", "Q4_0");
    private static final List<String> SYNTH_TYPES = List.of("Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K",
            "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K");

    @TestFactory
    Stream<DynamicNode> feather3mWithoutImatrix() throws IOException {
        Path dir = SharedData.shared("golden/gguf");
        GgufFile source = GgufFile.open(dir.resolve("feather-3m-F32.gguf"));
        Function<String, float[]> f32 = name -> source.tensor(name).data().toArray(F32_LE);
        return FEATHER_TYPES.stream().map(t -> fileTests(dir.resolve("feather-3m-" + t + ".gguf"), f32, null));
    }

    @TestFactory
    Stream<DynamicNode> feather3mWithImatrix() throws IOException {
        Path dir = SharedData.shared("golden/gguf");
        GgufFile source = GgufFile.open(dir.resolve("feather-3m-F32.gguf"));
        Map<String, float[]> imatrix = ImatrixDat.load(dir.resolve("feather-3m.imatrix"));
        assertThat(imatrix).hasSize(28);
        Function<String, float[]> f32 = name -> source.tensor(name).data().toArray(F32_LE);
        return IMATRIX_TYPES.stream().map(t -> fileTests(dir.resolve("feather-3m-" + t + ".imatrix.gguf"), f32, imatrix));
    }

    @TestFactory
    Stream<DynamicNode> synth256WithoutImatrix() throws IOException {
        Path dir = SharedData.shared("golden/gguf/synth256");
        Synth256Source source = new Synth256Source(SharedData.shared("golden/synth256-hf"));
        return SYNTH_TYPES.stream().map(t -> fileTests(dir.resolve("synth256-" + t + ".gguf"), source::f32, null));
    }

    /**
     * The imatrix comparison can fail: quantizing the imatrix files' tensors without the imatrix gives other
     * bytes for every tensor that has an imatrix entry (so the match above is not the reference path by accident).
     */
    @org.junit.jupiter.api.Test
    void imatrixTensorsDifferFromTheReferencePath() throws IOException {
        Path dir = SharedData.shared("golden/gguf");
        Map<String, float[]> imatrix = ImatrixDat.load(dir.resolve("feather-3m.imatrix"));
        try (GgufFile source = GgufFile.open(dir.resolve("feather-3m-F32.gguf"));
             GgufFile golden = GgufFile.open(dir.resolve("feather-3m-Q4_K_M.imatrix.gguf"));
             Arena arena = Arena.ofShared()) {
            int checked = 0;
            for (GgufTensorInfo t : golden.tensorInfos()) {
                if (!imatrix.containsKey(t.name())) continue;
                MemorySegment actual = arena.allocate(t.bytes());
                GgufBlockCodecs.quantizeRows(GgufBlockCodecs.of(t.type()), source.tensor(t.name()).data().toArray(F32_LE), 0,
                        rows(t), (int) t.ne()[0], actual, 0, null, 2);
                assertThat(golden.tensor(t.name()).data().mismatch(actual)).as(t.name()).isNotEqualTo(-1L);
                checked++;
            }
            assertThat(checked).isEqualTo(28);
        }
    }

    /**
     * Requantizing from llama.cpp's own F16 file (F16 → float is exact) equals quantizing the F16-rounded
     * weights: checked against a direct quantization of the decoded rows, for a K-quant and a legacy type.
     */
    @org.junit.jupiter.api.Test
    void requantizesFromF16AndBf16Files() {
        Path dir = SharedData.shared("golden/gguf");
        for (String src : List.of("F16", "BF16")) {
            try (GgufFile f = GgufFile.open(dir.resolve("feather-3m-" + src + ".gguf"));
                 GgufFile f32 = GgufFile.open(dir.resolve("feather-3m-F32.gguf"));
                 Arena arena = Arena.ofShared()) {
                GgufTensorInfo t = f.tensorInfo("blk.1.ffn_down.weight");
                int n = (int) t.ne()[0];
                int rows = rows(t);
                // the converter's F16/BF16 bytes are our F16/BF16 codec's bytes of the F32 weights
                MemorySegment mine = arena.allocate(t.bytes());
                GgufBlockCodecs.quantizeRows(GgufBlockCodecs.of(t.type()), f32.tensor(t.name()).data(), 0, rows, n, mine, 0, null, 2);
                assertThat(mine.mismatch(f.tensor(t.name()).data())).isEqualTo(-1L);
                for (GgmlType target : List.of(GgmlType.Q4_K, GgmlType.Q5_0)) {
                    GgufBlockCodec codec = GgufBlockCodecs.of(target);
                    MemorySegment viaSource = arena.allocate(codec.rowBytes(n) * rows);
                    GgufBlockCodecs.quantizeRows(codec, t.type(), f.tensor(t.name()).data(), 0, rows, n, viaSource, 0, null, 2);
                    float[] decoded = new float[n * rows];
                    for (int r = 0; r < rows; r++) {
                        GgufBlockCodecs.of(t.type()).dequantizeRow(f.tensor(t.name()).data(), (long) r * n * 2, decoded, r * n, n);
                    }
                    MemorySegment direct = arena.allocate(codec.rowBytes(n) * rows);
                    GgufBlockCodecs.quantizeRows(codec, decoded, 0, rows, n, direct, 0, null, 1);
                    assertThat(viaSource.mismatch(direct)).as(src + " -> " + target).isEqualTo(-1L);
                }
            }
        }
    }

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static DynamicNode fileTests(Path file, Function<String, float[]> f32, Map<String, float[]> imatrix) {
        List<DynamicNode> tests = new ArrayList<>();
        if (!Files.exists(file)) {
            return DynamicTest.dynamicTest(file.getFileName().toString(), () -> fail("golden file missing: " + file));
        }
        GgufFile golden = GgufFile.open(file);
        for (GgufTensorInfo t : golden.tensorInfos()) {
            if (t.type() == GgmlType.F32) continue; // norms: copied, not quantized
            tests.add(DynamicTest.dynamicTest(t.name() + " " + t.type(),
                    () -> assertSameBytes(golden, t, f32.apply(t.name()), imatrix == null ? null : imatrix.get(t.name()))));
        }
        return DynamicContainer.dynamicContainer(file.getFileName().toString(), tests);
    }

    private static int rows(GgufTensorInfo t) {
        return (int) (t.elements() / t.ne()[0]);
    }

    static void assertSameBytes(GgufFile golden, GgufTensorInfo t, float[] src, float[] importance) {
        GgufBlockCodec codec = GgufBlockCodecs.of(t.type());
        int n = (int) t.ne()[0];
        int rows = rows(t);
        assertThat(src).hasSize(n * rows);
        MemorySegment expected = golden.tensor(t.name()).data();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actual = arena.allocate(expected.byteSize());
            GgufBlockCodecs.quantizeRows(codec, src, 0, rows, n, actual, 0, importance, 2);
            long mismatch = expected.mismatch(actual);
            if (mismatch >= 0) fail(describeMismatch(golden, t, expected, actual, mismatch, src, importance != null));
        }
    }

    static String describeMismatch(GgufFile golden, GgufTensorInfo t, MemorySegment expected, MemorySegment actual,
                                   long at, float[] src, boolean imatrix) {
        GgmlType type = t.type();
        int n = (int) t.ne()[0];
        long rowBytes = type.rowBytes(n);
        long row = at / rowBytes;
        long block = (at % rowBytes) / type.typeSize;
        long blockStart = row * rowBytes + block * type.typeSize;
        byte[] e = expected.asSlice(blockStart, type.typeSize).toArray(ValueLayout.JAVA_BYTE);
        byte[] a = actual.asSlice(blockStart, type.typeSize).toArray(ValueLayout.JAVA_BYTE);
        HexFormat hex = HexFormat.of();
        int blockCols = type.blockSize;
        float[] x = new float[Math.min(blockCols, 16)];
        System.arraycopy(src, (int) (row * n + block * blockCols), x, 0, x.length);
        return golden.path().getFileName() + ": tensor " + t.name() + " (" + type + (imatrix ? ", imatrix" : "") + ") row " + row
                + " block " + block + " differs at byte " + (at - blockStart) + " of the block\n expected " + hex.formatHex(e)
                + "\n actual   " + hex.formatHex(a) + "\n expected scales " + GgufBlockCodecs.describeScales(type, e)
                + "\n actual scales   " + GgufBlockCodecs.describeScales(type, a)
                + "\n first inputs " + java.util.Arrays.toString(x);
    }
}
