package dev.featherweight.gateway;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Uploaded model archives: tar in every long-name dialect, zip, one top folder stripped, links skipped. */
class ModelArchivesTest {
    /** 130 characters: longer than ustar's 100-byte name field and not splittable into its 155-byte prefix + name at a '/'. */
    static final String LONG = "tokenizer-" + "x".repeat(115) + ".json";

    static byte[] tar(int longFileMode, Map<String, String> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(longFileMode);
            TarArchiveEntry dir = new TarArchiveEntry("feather-3m/");
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
            for (var f : files.entrySet()) {
                byte[] body = f.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(body.length);
                tar.putArchiveEntry(e);
                tar.write(body);
                tar.closeArchiveEntry();
            }
            TarArchiveEntry link = new TarArchiveEntry("feather-3m/link.json", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("config.json");
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    static Map<String, String> read(String fileName, byte[] archive) throws IOException {
        Map<String, String> got = new LinkedHashMap<>();
        ModelArchives.read(fileName, new ByteArrayInputStream(archive), (path, in) -> got.put(path, new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        return got;
    }

    static Map<String, String> model() {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("feather-3m/config.json", "{\"dim\":64}");
        files.put("feather-3m/" + LONG, "{\"long\":true}");
        files.put("feather-3m/model.safetensors", "weights");
        return files;
    }

    @Test
    void tarWithPaxLongNamesIsReadWithFullPathsRelativeToTheTopFolder() throws IOException {
        assertThat(read("m.tar", tar(TarArchiveOutputStream.LONGFILE_POSIX, model())))
                .containsExactly(Map.entry("config.json", "{\"dim\":64}"), Map.entry(LONG, "{\"long\":true}"), Map.entry("model.safetensors", "weights"));
    }

    @Test
    void tarWithGnuLongNamesIsReadToo() throws IOException {
        assertThat(read("m.tar", tar(TarArchiveOutputStream.LONGFILE_GNU, model()))).containsKey(LONG).hasSize(3);
    }

    @Test
    void zipIsReadEntryByEntry() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipArchiveOutputStream zip = new ZipArchiveOutputStream(bytes)) {
            zip.putArchiveEntry(new ZipArchiveEntry("feather-3m/"));
            zip.closeArchiveEntry();
            for (var f : model().entrySet()) {
                zip.putArchiveEntry(new ZipArchiveEntry(f.getKey()));
                zip.write(f.getValue().getBytes(StandardCharsets.UTF_8));
                zip.closeArchiveEntry();
            }
        }
        assertThat(read("m.zip", bytes.toByteArray()))
                .containsExactly(Map.entry("config.json", "{\"dim\":64}"), Map.entry(LONG, "{\"long\":true}"), Map.entry("model.safetensors", "weights"));
    }

    @Test
    void filesWithoutATopFolderOrInSubfoldersKeepTheirPaths() {
        assertThat(ModelArchives.strip("config.json")).isEqualTo("config.json");
        assertThat(ModelArchives.strip("./feather-3m/config.json")).isEqualTo("config.json");
        assertThat(ModelArchives.strip("feather-3m/tokenizer/vocab.json")).isEqualTo("feather-3m/tokenizer/vocab.json");
    }
}
