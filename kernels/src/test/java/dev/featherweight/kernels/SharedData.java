package dev.featherweight.kernels;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where tests find the project's read-only reference data (../shared beside the repository:
 * models, texts, llama.cpp's golden files and reference numbers). Third-party texts are not in
 * the repository, so a test that needs them skips with a visible message when ../shared is absent,
 * except on CI (CI=true), which always has it: there a missing ../shared is a failure.
 */
public final class SharedData {
    private SharedData() {
    }

    /** The repository root (set by surefire as fw.repo.root; falls back to walking up from the working dir). */
    public static Path repoRoot() {
        String prop = System.getProperty("fw.repo.root");
        if (prop != null && !prop.isBlank()) return Path.of(prop).toAbsolutePath().normalize();
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("mvnw"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("cannot find the repository root (no mvnw above " + Path.of("").toAbsolutePath() + ")");
        return p;
    }

    /** The repository's own demo models (models/stories260K, models/feather-3m). */
    public static Path demoModel(String name) {
        return repoRoot().resolve("models").resolve(name);
    }

    /** ../shared, or FW_SHARED when set. Skips the calling test when absent (fails on CI). */
    public static Path shared() {
        String env = System.getenv("FW_SHARED");
        Path dir = env != null && !env.isBlank() ? Path.of(env) : repoRoot().resolve("../shared").normalize();
        if (!Files.isDirectory(dir)) {
            String msg = "SKIPPED: shared reference data not found at " + dir + " (set FW_SHARED or put shared/ beside the repository)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new IllegalStateException(msg.replace("SKIPPED", "CI needs it"));
            }
            System.err.println(msg);
            Assumptions.abort(msg);
        }
        return dir;
    }

    /** A file or folder under ../shared (skips when ../shared is absent). */
    public static Path shared(String relative) {
        return shared().resolve(relative);
    }
}
