package dev.featherweight.kernels.formats.gguf;

import dev.featherweight.kernels.SharedData;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** llama.cpp's golden files: expected sha256 from SHA256SUMS, and a first-difference report for failures. */
final class GoldenFiles {
    private GoldenFiles() {
    }

    static Map<String, String> sums(String dir) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(SharedData.shared(dir).resolve("SHA256SUMS"))) {
            String[] p = line.trim().split("\\s+");
            if (p.length == 2) m.put(p[1], p[0]);
        }
        return m;
    }

    static String sha256(Path f) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(f), md())) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        }
    }

    private static MessageDigest md() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where two GGUF files first differ: a metadata key, a tensor info, or a tensor's first differing block. */
    static String firstDifference(Path expected, Path actual) {
        try (GgufFile e = GgufFile.open(expected); GgufFile a = GgufFile.open(actual)) {
            var ek = e.metadata().keySet().stream().toList();
            var ak = a.metadata().keySet().stream().toList();
            if (!ek.equals(ak)) return "metadata keys differ:\n expected " + ek + "\n actual   " + ak;
            for (String k : ek) {
                GgufValue ev = e.get(k), av = a.get(k);
                if (ev.type() != av.type() || ev.elementType() != av.elementType() || !Objects.equals(ev.value(), av.value())) {
                    String evs = String.valueOf(ev.value()), avs = String.valueOf(av.value());
                    return "metadata '" + k + "' differs: expected " + ev.type() + " " + evs.substring(0, Math.min(300, evs.length()))
                            + "\n actual " + av.type() + " " + avs.substring(0, Math.min(300, avs.length()));
                }
            }
            if (!e.names().equals(a.names())) return "tensor order differs:\n expected " + e.names() + "\n actual   " + a.names();
            for (GgufTensorInfo ti : e.tensorInfos()) {
                GgufTensorInfo ai = a.tensorInfo(ti.name());
                if (ti.type() != ai.type()) return "tensor " + ti.name() + " type: expected " + ti.type() + " actual " + ai.type();
                var ed = e.tensor(ti.name()).data();
                var ad = a.tensor(ti.name()).data();
                long m = ed.mismatch(ad);
                if (m >= 0) {
                    long block = m / ti.type().typeSize;
                    long start = block * ti.type().typeSize;
                    int len = (int) Math.min(ti.type().typeSize, ed.byteSize() - start);
                    return "tensor " + ti.name() + " (" + ti.type() + ") first differs at byte " + m + ", block " + block
                            + " (row " + block * ti.type().blockSize / ti.ne()[0] + "):\n expected " + HexFormat.of().formatHex(ed.asSlice(start, len).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE))
                            + "\n actual   " + HexFormat.of().formatHex(ad.asSlice(start, Math.min(len, ad.byteSize() - start)).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                }
            }
            if (e.fileSize() != a.fileSize()) return "file sizes differ: " + e.fileSize() + " vs " + a.fileSize();
            return "files differ outside metadata and tensor data (header layout or padding)";
        }
    }
}
