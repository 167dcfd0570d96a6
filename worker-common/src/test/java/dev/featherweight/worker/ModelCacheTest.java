package dev.featherweight.worker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.assertj.core.api.Assertions.assertThat;

class ModelCacheTest {
    @TempDir
    Path cache;

    Path model(String tenant, String name, int bytes, long usedMillis) throws Exception {
        Path dir = cache.resolve("models").resolve(tenant).resolve(name);
        Files.createDirectories(dir);
        Files.write(dir.resolve("model.safetensors"), new byte[bytes]);
        Files.setLastModifiedTime(dir, FileTime.fromMillis(usedMillis));
        return dir;
    }

    @Test
    void leastRecentlyUsedModelsGoFirstUntilTheCacheFitsAndTheCurrentOneStays() throws Exception {
        Path oldest = model("t1", "a", 400, 1_000);
        Path middle = model("t1", "b", 400, 2_000);
        Path newest = model("t2", "c", 400, 3_000);
        Path current = model("t2", "d", 400, 500); // just fetched, even if its folder time is old
        new RegistryClient(null, null, cache, 900, java.time.Duration.ZERO).evict(current);
        assertThat(oldest).doesNotExist();
        assertThat(middle).doesNotExist();
        assertThat(newest).exists();
        assertThat(current).exists();
    }
}
