package dev.featherweight.gateway;

import org.apache.commons.compress.archivers.ArchiveEntry;
import org.apache.commons.compress.archivers.ArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.ZipArchiveInputStream;
import org.apache.commons.io.input.CloseShieldInputStream;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads an uploaded model archive (.tar — ustar, GNU and pax long names — or .zip) entry by entry, streaming
 * (Apache Commons Compress), and hands each regular file to the sink with its path relative to the archive's
 * single top folder, if it has one.
 */
final class ModelArchives {

    static void read(String fileName, InputStream in, Importer.Sink sink) throws IOException {
        try (ArchiveInputStream<? extends ArchiveEntry> archive = fileName.endsWith(".zip") ? new ZipArchiveInputStream(in) : new TarArchiveInputStream(in)) {
            for (ArchiveEntry e; (e = next(archive)) != null; ) {
                if (e.isDirectory() || !archive.canReadEntryData(e) || !regular(e)) continue;
                sink.file(strip(e.getName()), CloseShieldInputStream.wrap(archive)); // the sink must not close the archive
            }
        }
    }

    /** The archive itself is broken (a bad header, a truncated entry): the upload is refused, not a server error. */
    static final class Malformed extends IOException {
        Malformed(IOException cause) {
            super("the archive is not a readable .tar or .zip: " + cause.getMessage(), cause);
        }
    }

    private static ArchiveEntry next(ArchiveInputStream<? extends ArchiveEntry> archive) throws Malformed {
        try {
            return archive.getNextEntry();
        } catch (IOException e) {
            throw new Malformed(e);
        }
    }

    /** Links, devices and the like are not part of a model folder. */
    private static boolean regular(ArchiveEntry e) {
        return !(e instanceof TarArchiveEntry t)
                || t.getLinkFlag() == TarConstants.LF_NORMAL || t.getLinkFlag() == TarConstants.LF_OLDNORM || t.getLinkFlag() == TarConstants.LF_CONTIG;
    }

    /** Archives usually hold one top folder ("feather-3m/config.json"): files are stored relative to it. */
    static String strip(String path) {
        if (path.startsWith("./")) path = path.substring(2);
        int slash = path.indexOf('/');
        return slash > 0 && path.indexOf('/', slash + 1) < 0 && !path.startsWith(".") ? path.substring(slash + 1) : path;
    }

    private ModelArchives() {}
}
