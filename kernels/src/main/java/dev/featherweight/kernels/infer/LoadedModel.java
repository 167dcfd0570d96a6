package dev.featherweight.kernels.infer;

import java.util.function.Function;

/** A model with its tokenizer, as {@link ModelLoader} opens it from a path. Closing unmaps the weights. */
public final class LoadedModel implements AutoCloseable {
    private final LlamaModel model;
    private final Function<String, int[]> encoder;
    private final Function<int[], String> decoder;

    public LoadedModel(LlamaModel model, Function<String, int[]> encoder, Function<int[], String> decoder) {
        this.model = model;
        this.encoder = encoder;
        this.decoder = decoder;
    }

    public LlamaModel model() {
        return model;
    }

    /** Token ids of a whole text, BOS first when the model adds BOS (as llama.cpp's common_tokenize(add_special)). */
    public int[] encode(String text) {
        if (encoder == null) throw new IllegalStateException(model.source().path() + ": no tokenizer available; pass --tokenizer DIR or --tokens FILE");
        return encoder.apply(text);
    }

    public String decode(int[] ids) {
        if (decoder == null) throw new IllegalStateException(model.source().path() + ": no tokenizer available; pass --tokenizer DIR");
        return decoder.apply(ids);
    }

    @Override
    public void close() {
        model.close();
    }
}
