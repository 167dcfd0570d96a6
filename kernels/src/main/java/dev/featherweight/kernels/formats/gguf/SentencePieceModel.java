package dev.featherweight.kernels.formats.gguf;

import dev.featherweight.kernels.formats.FormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The pieces of a SentencePiece {@code tokenizer.model}: a protobuf ModelProto whose field 1 repeats
 * SentencePiece messages {piece = 1 (string), score = 2 (float), type = 3 (enum, NORMAL = 1 by default)}.
 * Only what GGUF conversion needs is decoded; other fields are skipped by wire type.
 */
public record SentencePieceModel(List<Piece> pieces) {
    /** SentencePiece piece types, numbered as sentencepiece_model.proto (and llama.cpp's token types). */
    public static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;

    public record Piece(String piece, float score, int type) {
    }

    public static SentencePieceModel read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new FormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            List<Piece> pieces = new ArrayList<>();
            while (b.hasRemaining()) {
                long key = varint(b);
                int field = (int) (key >>> 3), wire = (int) (key & 7);
                if (field == 1 && wire == 2) {
                    int len = (int) varint(b);
                    pieces.add(piece(b.slice(b.position(), len).order(ByteOrder.LITTLE_ENDIAN)));
                    b.position(b.position() + len);
                } else {
                    skip(b, wire);
                }
            }
            if (pieces.isEmpty()) throw new FormatException(file, "no pieces: not a SentencePiece model");
            return new SentencePieceModel(List.copyOf(pieces));
        } catch (RuntimeException e) {
            if (e instanceof FormatException fe) throw fe;
            throw new FormatException(file, null, "malformed SentencePiece model: " + e, e);
        }
    }

    private static Piece piece(ByteBuffer b) {
        String piece = "";
        float score = 0;
        int type = NORMAL;
        while (b.hasRemaining()) {
            long key = varint(b);
            int field = (int) (key >>> 3), wire = (int) (key & 7);
            if (field == 1 && wire == 2) {
                int len = (int) varint(b);
                byte[] s = new byte[len];
                b.get(s);
                piece = new String(s, StandardCharsets.UTF_8);
            } else if (field == 2 && wire == 5) {
                score = b.getFloat();
            } else if (field == 3 && wire == 0) {
                type = (int) varint(b);
            } else {
                skip(b, wire);
            }
        }
        return new Piece(piece, score, type);
    }

    private static long varint(ByteBuffer b) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int x = b.get() & 0xFF;
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) return v;
        }
        throw new IllegalStateException("varint too long");
    }

    private static void skip(ByteBuffer b, int wire) {
        switch (wire) {
            case 0 -> varint(b);
            case 1 -> b.position(b.position() + 8);
            case 2 -> {
                int len = (int) varint(b);
                b.position(b.position() + len);
            }
            case 5 -> b.position(b.position() + 4);
            default -> throw new IllegalStateException("unsupported wire type " + wire);
        }
    }
}
