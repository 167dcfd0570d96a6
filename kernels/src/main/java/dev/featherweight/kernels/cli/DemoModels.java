package dev.featherweight.kernels.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository's demo models (models/ at the repo root) from the working directory or fw.repo.root. */
final class DemoModels {
    private DemoModels() {
    }

    static Path feather3m() {
        String prop = System.getProperty("fw.repo.root");
        Path p = prop != null ? Path.of(prop) : Path.of("").toAbsolutePath();
        for (Path d = p; d != null; d = d.getParent()) {
            Path m = d.resolve("models/feather-3m");
            if (Files.isDirectory(m)) return m;
        }
        throw new IllegalStateException("cannot find models/feather-3m above " + p + "; pass --tokenizer-from");
    }
}
