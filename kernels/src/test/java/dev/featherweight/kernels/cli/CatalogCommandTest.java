package dev.featherweight.kernels.cli;

import dev.featherweight.catalog.Catalog;
import dev.featherweight.catalog.GgufFileType;
import dev.featherweight.catalog.capacity.GpuCatalog;
import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.quant.gguf.FileType;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The catalogue lists exactly what these kernels can write, and {@code fw catalog} prints it. */
class CatalogCommandTest {

    @Test
    void ggufFileTypesInTheCatalogueAreTheTypesTheKernelsCanWrite() {
        assertThat(GgufFileType.names()).containsExactlyInAnyOrderElementsOf(Arrays.stream(FileType.values()).map(Enum::name).toList());
        for (GgufFileType t : GgufFileType.ALL) {
            FileType k = FileType.parse(t.name());
            assertThat(t.id()).as(t.name()).isEqualTo(k.id);
            assertThat(t.ggmlType()).as(t.name()).isEqualTo(k.defaultType.name());
        }
    }

    @Test
    void ggmlTypesInTheCatalogueHaveTheKernelsBlockLayout() {
        for (GgufFileType.GgmlType t : GgufFileType.GgmlType.ALL) {
            GgmlType k = GgmlType.valueOf(t.name());
            assertThat(t.blockSize()).as(t.name()).isEqualTo(k.blockSize);
            assertThat(t.typeSize()).as(t.name()).isEqualTo(k.typeSize);
        }
        for (FileType f : FileType.values())
            assertThat(GgufFileType.GgmlType.ALL).extracting(GgufFileType.GgmlType::name).contains(f.defaultType.name());
    }

    @Test
    void singleTypeFilesReportTheirBlockBitsPerWeight() {
        for (String name : new String[]{"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q6_K", "IQ4_NL", "IQ4_XS", "IQ3_S", "TQ1_0", "TQ2_0"})
            assertThat(GgufFileType.find(name).bitsPerWeight()).as(name).isEqualTo(FileType.parse(name).defaultType.bitsPerWeight());
    }

    @Test
    void jsonIsTheCatalogueDocumentAndTheTableNamesEveryMethod() {
        String[] json = run("catalog", "--json");
        assertThat(json[1]).isEmpty();
        JsonNode printed = JsonMapper.shared().readTree(json[0]);
        assertThat(printed).isEqualTo(JsonMapper.shared().valueToTree(Catalog.builtIn().document(GpuCatalog.builtIn())));
        assertThat(printed.path("methods").findValuesAsString("name")).contains("gguf", "gptq", "awq", "rtn", "nf4", "fp4", "llm-int8");

        String[] table = run("catalog");
        assertThat(table[0]).contains("gptq — GPTQ (calibrated)", "damp", "default 0.01; > 0 and <= 1", "Q4_K_M", "KV-cache types: fp32")
                .contains("IQ4_XS", "imatrix");
    }

    static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            assertThat(Fw.run(args)).isZero();
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new String[]{out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }
}
