package dev.featherweight.kernels.formats;

import dev.featherweight.kernels.formats.gguf.GgufFile;
import dev.featherweight.kernels.formats.safetensors.SafetensorsFile;
import dev.featherweight.kernels.formats.safetensors.SafetensorsModel;

import java.nio.file.Files;
import java.nio.file.Path;

/** Opens whatever a user points at: a .gguf file, a .safetensors file, or a Hugging Face folder. */
public final class ModelFiles {
    private ModelFiles() {
    }

    public static TensorSource open(Path path) {
        if (Files.isDirectory(path)) {
            if (SafetensorsModel.isModelFolder(path)) return SafetensorsModel.open(path);
            throw new FormatException(path, "folder holds no model.safetensors or model.safetensors.index.json");
        }
        if (!Files.exists(path)) throw new FormatException(path, "file not found");
        String name = path.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".gguf")) return GgufFile.open(path);
        if (name.endsWith(".safetensors")) return SafetensorsFile.open(path);
        throw new FormatException(path, "unknown model format (expected a .gguf or .safetensors file, or a Hugging Face folder)");
    }
}
