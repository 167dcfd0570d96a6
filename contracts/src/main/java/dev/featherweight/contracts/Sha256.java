package dev.featherweight.contracts;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** The platform's one SHA-256: file and blob checksums (lowercase hex) and API key hashes. */
public final class Sha256 {

    /** A stream copied while hashing it. */
    public record Copied(String sha256, long size) {}

    public static String of(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    public static String of(String utf8) {
        return of(utf8.getBytes(StandardCharsets.UTF_8));
    }

    public static String of(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return copy(in, OutputStream.nullOutputStream()).sha256();
        }
    }

    /** Copies {@code in} to {@code out} (neither is closed) and returns the sha256 and byte count of what passed. */
    public static Copied copy(InputStream in, OutputStream out) throws IOException {
        MessageDigest md = digest();
        long size = new DigestInputStream(in, md).transferTo(out);
        return new Copied(HexFormat.of().formatHex(md.digest()), size);
    }

    /** Copies {@code in} into {@code target} (replaced if present) and returns what was written. */
    public static Copied copy(InputStream in, Path target) throws IOException {
        try (OutputStream out = Files.newOutputStream(target)) {
            return copy(in, out);
        }
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private Sha256() {}
}
