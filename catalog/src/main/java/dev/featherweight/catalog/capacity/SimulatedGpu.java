package dev.featherweight.catalog.capacity;

import java.util.Locale;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * A GPU a CPU worker pretends to be: a memory budget checked before a task starts, and a clock that
 * advances by the roofline time of every kernel the task accounts — max(FLOPs / peak, bytes / bandwidth)
 * per launch, since a launch can overlap its arithmetic with its memory traffic but not with the next one.
 */
public final class SimulatedGpu {
    private final Gpu gpu;
    private final DoubleAdder seconds = new DoubleAdder();
    private final DoubleAdder flops = new DoubleAdder();
    private final DoubleAdder bytes = new DoubleAdder();

    public SimulatedGpu(Gpu gpu) {
        this.gpu = gpu;
    }

    public Gpu gpu() {
        return gpu;
    }

    public long deviceMemoryBytes() {
        return gpu.memoryBytes();
    }

    public boolean fits(long peakBytes) {
        return peakBytes <= gpu.memoryBytes();
    }

    /** Fails with the numbers when a task's peak device memory exceeds this GPU. */
    public void requireFits(long peakBytes, String what) {
        if (!fits(peakBytes)) {
            throw new CapacityException(String.format(Locale.ROOT, "%s needs %.2f GB of device memory, more than the %.1f GB of %s",
                    what, peakBytes / 1e9, gpu.memoryBytes() / 1e9, gpu.name()));
        }
    }

    /** Accounts one kernel launch and returns the simulated seconds it took. */
    public double account(double launchFlops, double launchBytes, Precision precision) {
        double s = Math.max(launchFlops / gpu.peak(precision), launchBytes / gpu.bandwidthBps());
        seconds.add(s);
        flops.add(launchFlops);
        bytes.add(launchBytes);
        return s;
    }

    /** The same with integral counts (what a worker's FLOP and byte estimates usually are). */
    public double account(long launchFlops, long launchBytes, Precision precision) {
        return account((double) launchFlops, (double) launchBytes, precision);
    }

    public double simulatedSeconds() {
        return seconds.sum();
    }

    public double accountedFlops() {
        return flops.sum();
    }

    public double accountedBytes() {
        return bytes.sum();
    }
}
