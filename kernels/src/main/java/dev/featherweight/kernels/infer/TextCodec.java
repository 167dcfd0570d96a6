package dev.featherweight.kernels.infer;

import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.tokenizer.Tokenizer;

import java.nio.file.Path;

/** Text ↔ token ids for a model folder (the formats tokenizer), with the model's BOS policy. */
interface TextCodec {
    int[] encode(String text);

    String decode(int[] ids);

    /**
     * The codec of a folder with tokenizer.json. The whole text is encoded as one piece with BOS first when
     * {@code addBos} (llama.cpp: common_tokenize(text, add_special = true, parse_special = false)).
     */
    static TextCodec forFolder(Path dir, boolean addBos) {
        return of(Tokenizer.fromHfFolder(dir), addBos);
    }

    /**
     * The codec of a GGUF file's own tokenizer ({@code tokenizer.ggml.*}, what llama.cpp tokenizes with), built on
     * first use: runs on token files never need it, and its metadata is only read when text is.
     */
    static TextCodec forGguf(GgufFile g, boolean addBos) {
        return new TextCodec() {
            private TextCodec codec;

            private synchronized TextCodec codec() {
                if (codec == null) codec = of(Tokenizer.fromGguf(g), addBos);
                return codec;
            }

            @Override
            public int[] encode(String text) {
                return codec().encode(text);
            }

            @Override
            public String decode(int[] ids) {
                return codec().decode(ids);
            }
        };
    }

    private static TextCodec of(Tokenizer tok, boolean addBos) {
        return new TextCodec() {
            @Override
            public int[] encode(String text) {
                int[] ids = tok.encode(text, false);
                if (!addBos || tok.bosId() < 0) return ids;
                int[] out = new int[ids.length + 1];
                out[0] = tok.bosId();
                System.arraycopy(ids, 0, out, 1, ids.length);
                return out;
            }

            @Override
            public String decode(int[] ids) {
                return tok.decode(ids, true);
            }
        };
    }
}
