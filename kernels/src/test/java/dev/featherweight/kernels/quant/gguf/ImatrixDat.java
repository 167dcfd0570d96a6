package dev.featherweight.kernels.quant.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads llama-imatrix's legacy .dat file the way llama-quantize's load_imatrix (examples/quantize/quantize.cpp)
 * does: per entry the stored sums are divided by the entry's ncall (float / int, in float), giving the
 * per-column mean of x² that quantize_<type> receives as quant_weights. Test-only helper.
 */
final class ImatrixDat {
    private ImatrixDat() {
    }

    static Map<String, float[]> load(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int nEntries = b.getInt();
        Map<String, float[]> out = new LinkedHashMap<>();
        for (int i = 0; i < nEntries; i++) {
            byte[] name = new byte[b.getInt()];
            b.get(name);
            int ncall = b.getInt();
            int nval = b.getInt();
            float[] v = new float[nval];
            for (int j = 0; j < nval; j++) v[j] = b.getFloat();
            if (ncall > 0) {
                for (int j = 0; j < nval; j++) v[j] /= ncall;
            }
            out.put(new String(name, StandardCharsets.UTF_8), v);
        }
        return out;
    }
}
