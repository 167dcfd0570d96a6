package dev.featherweight.catalog.methods;

import dev.featherweight.catalog.BlockShape;
import dev.featherweight.catalog.Estimate;
import dev.featherweight.catalog.GgufFileType;
import dev.featherweight.catalog.MethodDescriptor;
import dev.featherweight.catalog.Parameter;
import dev.featherweight.catalog.Params;
import dev.featherweight.catalog.ResolvedRecipe;
import dev.featherweight.catalog.capacity.ModelShape;

import java.util.List;
import java.util.Map;

/** llama.cpp's convert + llama-quantize, byte-identical to llama.cpp's files. */
public final class GgufMethod extends MethodDescriptor {

    public record Resolved(String fileType) implements ResolvedRecipe {
        public String method() { return "gguf"; }

        /** The width in the type's name (Q4_K_M → 4), 32 or 16 for the float types: what users filter artifacts by. */
        public int nominalBits() {
            return fileType.startsWith("Q") ? fileType.charAt(1) - '0' : fileType.equals("F32") ? 32 : 16;
        }

        public String label() { return "gguf " + fileType; }
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
        return List.of(Parameter.string("fileType", "Q4_K_M", "llama-quantize file type (see ggufFileTypes)").allowed(GgufFileType.names()));
    }

    public List<String> rules() {
        return List.of("only file types llama-quantize writes without an importance matrix are listed");
    }

    protected ResolvedRecipe resolve(Params p, Map<String, Object> given, ModelShape shape) {
        return new Resolved(p.string("fileType"));
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
