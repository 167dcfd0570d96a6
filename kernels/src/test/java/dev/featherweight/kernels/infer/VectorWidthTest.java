package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.SharedData;
import dev.featherweight.kernels.core.VectorWidth;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs in the surefire executions {@code vector-128} ({@code -XX:MaxVectorSize=16}) and {@code vector-avx2}
 * ({@code -XX:UseAVX=2}) of kernels/pom.xml, beside the codec byte tests, and proves that the flag really changed the
 * vector width the kernels use (the pom passes the expected width as {@code fw.test.vectorBits}), then runs one
 * whole llama.cpp-protocol perplexity at that width against llama-perplexity. The default test run does not include
 * it: {@link PerplexityLlamaCppTest} runs the same model at the CPU's own width. Every float sum of the forward pass
 * has the same order at any width ({@code MatmulKernel.VIRTUAL_LANES}), so the value printed here is the same bits at
 * 128, 256 and 512 bits (feather-3m Q4_K_M llamacpp: 6.3276 at 128 and at 256 bits).
 */
class VectorWidthTest {
    @Test
    void kernelsUseTheWidthTheJvmWasGiven() {
        String expected = System.getProperty("fw.test.vectorBits");
        System.out.println("SPECIES_PREFERRED " + FloatVector.SPECIES_PREFERRED + "; kernels: " + VectorWidth.describe()
                + ", bytes " + VectorWidth.BYTES + " in " + VectorWidth.BYTE_PARTS + " part(s)");
        // Without the pom's property (a run of this class alone) the kernels must simply use the JVM's preferred width.
        int bits = expected == null ? FloatVector.SPECIES_PREFERRED.vectorBitSize() : Integer.parseInt(expected);
        assertThat(VectorWidth.FLOATS.vectorBitSize()).isEqualTo(bits);
        assertThat(FloatVector.SPECIES_PREFERRED.vectorBitSize()).isEqualTo(bits);
        assertThat(VectorWidth.BYTES.length() * VectorWidth.BYTE_PARTS).isGreaterThanOrEqualTo(VectorWidth.FLOATS.length());
    }

    @Test
    void perplexityAtThisWidthMatchesLlamaPerplexity() throws Exception {
        // stories260K keeps the narrow-width executions short; the codec tests beside it cover every block type.
        var ref = PerplexityLlamaCppTest.llamaPerplexity("stories260K-F32.gguf", "dev.tinystories");
        PerplexityLlamaCppTest.run(SharedData.shared("models").resolve("stories260K"), "dev.tinystories", 0.05, ref, Numerics.FP32);
    }
}
