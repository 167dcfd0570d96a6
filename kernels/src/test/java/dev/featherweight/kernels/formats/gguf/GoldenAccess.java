package dev.featherweight.kernels.formats.gguf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Public face of {@link GoldenFiles} for tests in other packages. */
public final class GoldenAccess {
    private GoldenAccess() {
    }

    public static Map<String, String> sums(String dir) throws IOException {
        return GoldenFiles.sums(dir);
    }

    public static String sha256(Path f) throws IOException {
        return GoldenFiles.sha256(f);
    }

    public static String firstDifference(Path expected, Path actual) {
        return GoldenFiles.firstDifference(expected, actual);
    }
}
