package dev.featherweight.kernels.infer;

import java.nio.file.Path;

/** Text ↔ token ids for a model folder (the formats tokenizer). */
interface TextCodec {
    int[] encode(String text);

    String decode(int[] ids);

    /** The codec of a folder with tokenizer.json, or null when no tokenizer implementation is available. */
    static TextCodec forFolder(Path dir, boolean addBos) {
        return null;
    }
}
