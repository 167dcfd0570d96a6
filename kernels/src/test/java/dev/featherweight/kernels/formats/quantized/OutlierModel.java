package dev.featherweight.kernels.formats.quantized;

import dev.featherweight.kernels.core.GgmlType;
import dev.featherweight.kernels.core.Tensor;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;
import dev.featherweight.kernels.formats.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A copy of an F32 model with injected activation outliers and the same function: in every block, a few channels of
 * both RMSNorm weights are multiplied by a power of two and the matching input columns of the layers that read them
 * (q/k/v after input_layernorm, gate/up after post_attention_layernorm) divided by it. Powers of two only move
 * exponents, so every product x·w — and the whole forward pass — is bit-for-bit the source's, while those channels of
 * the linear layers' inputs are {@code factor} times larger: the outliers real LLMs have and feather-3m lacks.
 */
final class OutlierModel {
    private OutlierModel() {
    }

    static void write(Path src, Path dst, int[] channels, float factor) throws IOException {
        if (Integer.bitCount(Float.floatToRawIntBits(factor) & 0x7FFFFF) != 0) throw new IllegalArgumentException("factor must be a power of two");
        Files.createDirectories(dst);
        try (SafetensorsModel m = SafetensorsModel.open(src)) {
            List<SafetensorsWriter.Spec> specs = new ArrayList<>();
            for (String n : m.names()) specs.add(new SafetensorsWriter.Spec(n, m.tensor(n).type(), m.tensor(n).shape()));
            try (SafetensorsWriter w = SafetensorsWriter.create(dst, "model", specs, Map.of("format", "pt"), 0)) {
                for (String n : m.names()) {
                    Tensor t = m.tensor(n);
                    if (t.type() != GgmlType.F32) throw new IllegalArgumentException(n + ": an F32 model is needed");
                    float[] v = t.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                    if (n.endsWith("input_layernorm.weight") || n.endsWith("post_attention_layernorm.weight")) {
                        for (int c : channels) v[c] *= factor;
                    } else if (n.matches(".*\\.(q_proj|k_proj|v_proj|gate_proj|up_proj)\\.weight")) {
                        int cols = (int) t.shape()[1];
                        for (int r = 0; r < t.shape()[0]; r++) for (int c : channels) v[r * cols + c] /= factor;
                    }
                    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                    b.asFloatBuffer().put(v);
                    w.write(n, b);
                }
                w.finish();
            }
        }
        try (Stream<Path> s = Files.list(src)) {
            for (Path p : s.toList()) if (!p.getFileName().toString().endsWith(".safetensors")) Files.copy(p, dst.resolve(p.getFileName()));
        }
    }
}
