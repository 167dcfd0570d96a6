package dev.featherweight.contracts;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

import java.util.List;
import java.util.Set;

/**
 * One quantization recipe: a method and its parameters. JSON: {@code {"method":"gptq","bits":4,...}}.
 * {@link #validate} lists every problem with a message a user can act on; records do not throw from
 * their constructors so that a bad request can be answered with all its problems at once.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "method")
@JsonSubTypes({
        @JsonSubTypes.Type(value = Recipe.Gguf.class, name = "gguf"),
        @JsonSubTypes.Type(value = Recipe.Gptq.class, name = "gptq"),
        @JsonSubTypes.Type(value = Recipe.Awq.class, name = "awq"),
        @JsonSubTypes.Type(value = Recipe.Nf4.class, name = "nf4"),
        @JsonSubTypes.Type(value = Recipe.Fp4.class, name = "fp4"),
        @JsonSubTypes.Type(value = Recipe.LlmInt8.class, name = "llm-int8"),
        @JsonSubTypes.Type(value = Recipe.Rtn.class, name = "rtn")})
public sealed interface Recipe {

    /** Method name as in JSON. */
    @JsonIgnore
    String method();

    /** Nominal bits per weight (for filtering artifacts). */
    @JsonIgnore
    int nominalBits();

    /** Short human label, e.g. "gguf Q4_K_M" or "gptq 4-bit g128". */
    @JsonIgnore
    String label();

    void validate(String path, List<String> errors);

    /** llama.cpp file types (llama-quantize names) that a gguf recipe may ask for. */
    Set<String> GGUF_FILE_TYPES = Set.of("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
            "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K",
            "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0");

    record Gguf(String fileType) implements Recipe {
        public String method() { return "gguf"; }
        public int nominalBits() {
            if (fileType == null) return 0;
            return switch (fileType) {
                case "F32" -> 32; case "F16", "BF16" -> 16; case "Q8_0" -> 8; case "Q6_K" -> 6;
                case "Q5_0", "Q5_1", "Q5_K_S", "Q5_K_M" -> 5; case "Q3_K_S", "Q3_K_M", "Q3_K_L" -> 3;
                case "Q2_K", "TQ2_0" -> 2; case "TQ1_0" -> 1; default -> 4;
            };
        }
        public String label() { return "gguf " + fileType; }
        public void validate(String path, List<String> errors) {
            if (fileType == null) errors.add(path + ".fileType: required, one of " + new java.util.TreeSet<>(GGUF_FILE_TYPES));
            else if (!GGUF_FILE_TYPES.contains(fileType))
                errors.add(path + ".fileType: '" + fileType + "' is not a llama.cpp file type; one of " + new java.util.TreeSet<>(GGUF_FILE_TYPES));
        }
    }

    /** GPTQ (Frantar et al.): calibrated, column-by-column error feedback through the Hessian. */
    record Gptq(int bits, int groupSize, boolean descAct, double damp, int calibrationSamples, int calibrationSeqLen,
                boolean symmetric) implements Recipe {
        public String method() { return "gptq"; }
        public int nominalBits() { return bits; }
        public String label() { return "gptq " + bits + "-bit g" + groupSize + (descAct ? " act-order" : ""); }
        public void validate(String path, List<String> errors) {
            Checks.oneOf(errors, path + ".bits", bits, 2, 3, 4, 8);
            Checks.group(errors, path + ".groupSize", groupSize);
            Checks.range(errors, path + ".damp", damp, 0.0, 1.0);
            Checks.range(errors, path + ".calibrationSamples", calibrationSamples, 1, 1 << 20);
            Checks.range(errors, path + ".calibrationSeqLen", calibrationSeqLen, 8, 1 << 17);
        }
    }

    /** AWQ (Lin et al.): activation-aware per-channel scales searched on calibration data, then group RTN. */
    record Awq(int bits, int groupSize, int calibrationSamples, int calibrationSeqLen) implements Recipe {
        public String method() { return "awq"; }
        public int nominalBits() { return bits; }
        public String label() { return "awq " + bits + "-bit g" + groupSize; }
        public void validate(String path, List<String> errors) {
            Checks.oneOf(errors, path + ".bits", bits, 4);
            Checks.group(errors, path + ".groupSize", groupSize);
            Checks.range(errors, path + ".calibrationSamples", calibrationSamples, 1, 1 << 20);
            Checks.range(errors, path + ".calibrationSeqLen", calibrationSeqLen, 8, 1 << 17);
        }
    }

    /** bitsandbytes NF4 (QLoRA): 4-bit normal-float code book, absmax per block, optional double quantization. */
    record Nf4(int blockSize, boolean doubleQuant) implements Recipe {
        public String method() { return "nf4"; }
        public int nominalBits() { return 4; }
        public String label() { return "nf4 b" + blockSize + (doubleQuant ? " dq" : ""); }
        public void validate(String path, List<String> errors) { Checks.oneOf(errors, path + ".blockSize", blockSize, 32, 64, 128, 256, 512, 1024, 2048, 4096); }
    }

    /** bitsandbytes FP4 (e2m1), absmax per block. */
    record Fp4(int blockSize, boolean doubleQuant) implements Recipe {
        public String method() { return "fp4"; }
        public int nominalBits() { return 4; }
        public String label() { return "fp4 b" + blockSize + (doubleQuant ? " dq" : ""); }
        public void validate(String path, List<String> errors) { Checks.oneOf(errors, path + ".blockSize", blockSize, 32, 64, 128, 256, 512, 1024, 2048, 4096); }
    }

    /** LLM.int8() (Dettmers et al.): int8 row-wise absmax, outlier columns above the threshold kept in fp16. */
    record LlmInt8(double threshold) implements Recipe {
        public String method() { return "llm-int8"; }
        public int nominalBits() { return 8; }
        public String label() { return "llm-int8 t" + threshold; }
        public void validate(String path, List<String> errors) { Checks.range(errors, path + ".threshold", threshold, 0.0, 1000.0); }
    }

    /** Round to nearest with per-group scales: the uncalibrated baseline. */
    record Rtn(int bits, int groupSize, boolean symmetric) implements Recipe {
        public String method() { return "rtn"; }
        public int nominalBits() { return bits; }
        public String label() { return "rtn int" + bits + " g" + groupSize + (symmetric ? " sym" : " asym"); }
        public void validate(String path, List<String> errors) {
            Checks.oneOf(errors, path + ".bits", bits, 2, 3, 4, 8);
            Checks.group(errors, path + ".groupSize", groupSize);
        }
    }
}
