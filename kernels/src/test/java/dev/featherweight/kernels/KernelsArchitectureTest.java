package dev.featherweight.kernels;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.Architectures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kernels' packages in layers, each using only the ones below it:
 * <pre>
 *   core ← quant ← formats ← infer ← pipeline ← cli
 *   core, formats ← capacity ← cli
 *   recommend ← cli
 * </pre>
 * core: ground types (GGML type table, tensor, half floats, parallel and matmul primitives); quant: pure
 * quantization algorithms on arrays and memory segments; formats: file readers and writers; infer: the forward
 * pass and perplexity; pipeline: drivers that run a model to quantize it; recommend: the planner that prunes candidates
 * with the catalogue's capacity model and ranks what its producers and quality metric return (it makes nothing itself);
 * cli: the {@code fw} commands.
 * A new import against the arrows (a back-edge) fails {@link #layersOnlyUseTheLayersBelow()}.
 */
class KernelsArchitectureTest {
    private static final String ROOT = "dev.featherweight.kernels";
    private static JavaClasses kernels;

    @BeforeAll
    static void importMainClasses() {
        kernels = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(ROOT);
    }

    /** Guards the rules below against passing vacuously (e.g. after a package rename). */
    @Test
    void everyLayerHasClasses() {
        for (String layer : new String[]{"core", "quant", "quant.gguf", "formats", "infer", "pipeline", "cli", "capacity", "recommend"}) {
            assertThat(kernels.stream().filter(c -> c.getPackageName().equals(ROOT + "." + layer)).count())
                    .as("classes in %s.%s", ROOT, layer).isPositive();
        }
    }

    @Test
    void layersOnlyUseTheLayersBelow() {
        layers().check(kernels);
    }

    static Architectures.LayeredArchitecture layers() {
        return Architectures.layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .layer("core").definedBy(ROOT + ".core..")
                .layer("quant").definedBy(ROOT + ".quant..")
                .layer("formats").definedBy(ROOT + ".formats..")
                .layer("infer").definedBy(ROOT + ".infer..")
                .layer("pipeline").definedBy(ROOT + ".pipeline..")
                .layer("capacity").definedBy(ROOT + ".capacity..")
                .layer("recommend").definedBy(ROOT + ".recommend..")
                .layer("cli").definedBy(ROOT + ".cli..")
                .whereLayer("core").mayNotAccessAnyLayer()
                .whereLayer("quant").mayOnlyAccessLayers("core")
                .whereLayer("formats").mayOnlyAccessLayers("core", "quant")
                .whereLayer("infer").mayOnlyAccessLayers("core", "quant", "formats")
                .whereLayer("pipeline").mayOnlyAccessLayers("core", "quant", "formats", "infer")
                // the capacity math lives in the catalog module; kernels.capacity is its adapter that reads artifact files
                .whereLayer("capacity").mayOnlyAccessLayers("core", "formats")
                .whereLayer("recommend").mayNotAccessAnyLayer()
                .whereLayer("cli").mayNotBeAccessedByAnyLayer();
    }

    /** Sub-packages inside a layer (formats.gguf, formats.hf, …) may use each other; the layers never form a cycle. */
    @Test
    void noCyclesBetweenTopLevelPackages() {
        slices().matching(ROOT + ".(*)..").should().beFreeOfCycles().check(kernels);
    }

    /**
     * Algorithms and ground types never touch files: they take arrays and memory segments, and the formats and
     * pipeline layers do the reading and writing. No exceptions today.
     */
    @Test
    void algorithmsDoNoFileIo() {
        fileIo().check(kernels);
    }

    static ArchRule fileIo() {
        return noClasses().that().resideInAnyPackage(ROOT + ".core..", ROOT + ".quant..")
                .should().dependOnClassesThat().resideInAnyPackage("java.nio.file..", "java.nio.channels..")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.io.File")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.io.FileInputStream")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.io.FileOutputStream")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.io.RandomAccessFile")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.io.FileReader")
                .orShould().dependOnClassesThat().haveFullyQualifiedName("java.io.FileWriter")
                .because("quantization algorithms and ground types do no file I/O");
    }
}
