package dev.featherweight.catalog.methods;

import dev.featherweight.catalog.BlockShape;
import dev.featherweight.catalog.Estimate;
import dev.featherweight.catalog.GgufFileType;
import dev.featherweight.catalog.MethodDescriptor;
import dev.featherweight.catalog.Parameter;
import dev.featherweight.catalog.Problem;
import dev.featherweight.catalog.Params;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.capacity.ModelShape;

import java.util.List;
import java.util.Map;

/** llama.cpp's convert + llama-quantize, byte-identical to llama.cpp's files. */
public final class GgufMethod extends MethodDescriptor {

    /** @param imatrix quantize with an importance matrix computed on the worker's calibration text (llama-imatrix's) */
    public record Resolved(String fileType, boolean imatrix) implements ResolvedRecipe {
        public Resolved(String fileType) {
            this(fileType, false);
        }

        public String method() { return "gguf"; }

        /** The width in the type's name (Q4_K_M → 4, IQ3_XS → 3, TQ1_0 → 1), 32 or 16 for the float types: what users filter artifacts by. */
        public int nominalBits() {
            if (fileType.startsWith("F")) return fileType.equals("F32") ? 32 : 16;
            if (fileType.startsWith("BF")) return 16;
            int q = fileType.indexOf('Q');
            return fileType.charAt(q + 1) - '0';
        }

        public String label() { return "gguf " + fileType + (imatrix ? " imatrix" : ""); }
    }

    public String name() { return "gguf"; }

    public String title() { return "GGUF (llama.cpp)"; }

    public String description() {
        return "Hugging Face folder to a GGUF file as convert_hf_to_gguf.py + llama-quantize make it: the file type's mix of ggml block types per tensor, byte-identical to llama.cpp";
    }

    public String output() {
        return "one .gguf file (GGUF v3: metadata, tokenizer, tensors in the file type's llama-quantize mix; norms in F32); loads in llama.cpp and Ollama";
    }

    public boolean calibrated() { return false; }

    public List<Parameter> parameters() {
        return List.of(Parameter.string("fileType", "Q4_K_M", "llama-quantize file type (see ggufFileTypes)").allowed(GgufFileType.names()),
                Parameter.bool("imatrix", false, "compute an importance matrix on the worker's calibration text (llama-imatrix: chunks of 512, f16 KV cache) and quantize with it, as llama-quantize --imatrix"));
    }

    public List<String> rules() {
        return List.of("a file type with requiresImatrix (IQ1_*, IQ2_*, IQ3_XXS) needs imatrix true");
    }

    @Override
    protected void checkRules(Params p, String path, List<Problem> problems) {
        GgufFileType type = GgufFileType.find(p.string("fileType"));
        if (type != null && type.requiresImatrix() && !p.bool("imatrix")) {
            problems.add(new Problem(path + ".imatrix", type.name() + " needs an importance matrix (llama-quantize refuses it without one): set imatrix to true"));
        }
    }

    protected ResolvedRecipe resolve(Params p, Map<String, Object> given, ModelShape shape) {
        return new Resolved(p.string("fileType"), p.bool("imatrix"));
    }

    /** Size from the type's bits per weight; the quantize pass streams tensor by tensor, embeddings and output head after the blocks. */
    public Estimate estimate(ResolvedRecipe recipe, ModelShape s) {
        double bpw = GgufFileType.find(((Resolved) recipe).fileType()).bitsPerWeight();
        BlockShape b = BlockShape.of(s);
        long other = 2L * s.vocab() * s.hidden();
        return new Estimate(Math.round(s.params() * bpw / 8), b.streamingWorkingSet(bpw), s.layers(), 10.0 * b.weights(), b.bytesPerBlock(0),
                10.0 * other, other * 2 * 2.0);
    }
}
