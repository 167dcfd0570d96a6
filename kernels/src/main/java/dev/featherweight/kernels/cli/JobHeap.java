package dev.featherweight.kernels.cli;

import dev.featherweight.kernels.pipeline.InsufficientHeapException;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The heap sized from the job: bin/fw starts the JVM with a small default heap (enough for streaming work such as
 * GGUF quantization), and a command that holds a working set proportional to the model (a forward pass's KV cache and
 * logits, a calibrated block) states it here before the work starts. When it does not fit, the command ends with an
 * {@link InsufficientHeapException} naming the -Xmx to use, and bin/fw restarts it with that heap
 * ({@link Fw#HEAP_RESTART_EXIT}) — so the heap, and the resident memory a generous default lets garbage grow into,
 * follows the job rather than the machine's RAM.
 */
final class JobHeap {
    /** What every command holds besides its working set: classes, tokenizer, metadata, the input's token ids. */
    static final long BASE = 96L << 20;

    private JobHeap() {
    }

    /** Refuses (before any work) a job whose working set plus {@link #BASE} would take more than 90 % of the heap. */
    static void require(Path model, String job, long workingSet) {
        long need = workingSet + BASE, max = Runtime.getRuntime().maxMemory();
        if (max != Long.MAX_VALUE && need > max * 0.9) {
            long xmx = (long) (need / 0.9);
            throw new InsufficientHeapException(String.format(Locale.ROOT,
                    "%s: %s needs about %d MB of heap, this JVM has %d MB: raise -Xmx (FW_JAVA_OPTS for fw) to at least %d MB",
                    model, job, need >> 20, max >> 20, xmx >> 20), xmx);
        }
    }
}
