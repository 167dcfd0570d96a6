package dev.featherweight.kernels.formats.gguf;

import dev.featherweight.kernels.formats.FormatException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An importance matrix in llama-imatrix's legacy .dat format (IMatrixCollector::save_imatrix): int32
 * entry count; per entry int32 name length, name, int32 ncall, int32 nval, nval float32 sums of x²
 * (already scaled so that sums / ncall is the per-column mean over the calibration tokens); then int32
 * chunk count and int32 length + the dataset name. {@link #weights(String)} gives what llama-quantize's
 * load_imatrix hands the quantizers: sums / ncall, computed in float.
 *
 * @param entries per tensor name: the stored sums
 * @param ncalls  per tensor name: the stored ncall
 */
public record ImportanceMatrix(Map<String, float[]> entries, Map<String, Integer> ncalls, int chunks, String dataset) {

    public static ImportanceMatrix read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new FormatException(file, null, "cannot read: " + e.getMessage(), e);
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            int n = b.getInt();
            if (n < 0 || n > bytes.length / 16) throw new FormatException(file, "entry count " + n + " is impossible for " + bytes.length + " bytes");
            Map<String, float[]> entries = new LinkedHashMap<>();
            Map<String, Integer> ncalls = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                int len = b.getInt();
                if (len <= 0 || len > b.remaining()) throw new FormatException(file, "entry " + i + " has a bad name length " + len);
                byte[] name = new byte[len];
                b.get(name);
                int ncall = b.getInt(), nval = b.getInt();
                if (nval < 0 || nval > b.remaining() / 4) throw new FormatException(file, "entry " + new String(name, StandardCharsets.UTF_8) + " claims " + nval + " values");
                float[] v = new float[nval];
                b.asFloatBuffer().get(v);
                b.position(b.position() + 4 * nval);
                String key = new String(name, StandardCharsets.UTF_8);
                entries.put(key, v);
                ncalls.put(key, ncall);
            }
            int chunks = b.remaining() >= 4 ? b.getInt() : 0;
            String dataset = "";
            if (b.remaining() >= 4) {
                int len = b.getInt();
                if (len > 0 && len <= b.remaining()) {
                    byte[] d = new byte[len];
                    b.get(d);
                    dataset = new String(d, StandardCharsets.UTF_8);
                }
            }
            return new ImportanceMatrix(Collections.unmodifiableMap(entries), Collections.unmodifiableMap(ncalls), chunks, dataset);
        } catch (java.nio.BufferUnderflowException e) {
            throw new FormatException(file, "truncated importance matrix");
        }
    }

    /** The per-column weights llama-quantize passes for this tensor (sums / ncall), or null when absent. */
    public float[] weights(String tensor) {
        float[] sums = entries.get(tensor);
        if (sums == null) return null;
        int ncall = ncalls.get(tensor);
        float[] w = sums.clone();
        if (ncall > 0) for (int i = 0; i < w.length; i++) w[i] /= ncall;
        return w;
    }

    /** Writes the legacy .dat format (temp name, then rename). */
    public void write(Path out) {
        int size = 4 + 4 + 4 + dataset.getBytes(StandardCharsets.UTF_8).length;
        for (var e : entries.entrySet()) size += 12 + e.getKey().getBytes(StandardCharsets.UTF_8).length + 4 * e.getValue().length;
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(entries.size());
        for (var e : entries.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            b.putInt(name.length).put(name).putInt(ncalls.get(e.getKey())).putInt(e.getValue().length);
            for (float f : e.getValue()) b.putFloat(f);
        }
        byte[] d = dataset.getBytes(StandardCharsets.UTF_8);
        b.putInt(chunks).putInt(d.length).put(d);
        Path tmp = out.resolveSibling("." + out.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                b.flip();
                while (b.hasRemaining()) ch.write(b);
            }
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new FormatException(out, null, "cannot write: " + e.getMessage(), e);
        }
    }
}
