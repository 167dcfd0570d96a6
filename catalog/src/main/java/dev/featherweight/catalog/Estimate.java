package dev.featherweight.catalog;

import dev.featherweight.catalog.capacity.Gpu;
import dev.featherweight.catalog.capacity.Precision;

import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What one quantization costs on a (simulated) GPU, for a model shape: the artifact's size, the peak device
 * memory of the one transformer block being worked on (named parts, summed), and per block the FLOPs and bytes
 * the roofline turns into seconds — plus the non-block tensors (embeddings, output head), done after the blocks.
 * The quantizer-worker accounts exactly these numbers on its simulated GPU; the gateway's pre-flight shows them.
 */
public record Estimate(long outputBytes, Map<String, Long> peakParts, int layers, double flopsPerBlock, double bytesPerBlock,
                       double flopsOther, double bytesOther) {

    public Estimate {
        peakParts = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(peakParts)); // keeps the parts' order for describe()
    }

    public long peakDeviceBytes() {
        return BlockShape.total(peakParts);
    }

    /** Simulated seconds on a GPU: per launch max(FLOPs / fp16 peak, bytes / bandwidth), as {@link dev.featherweight.catalog.capacity.SimulatedGpu} accounts them. */
    public double seconds(Gpu gpu) {
        double peak = gpu.peak(Precision.FP16), bw = gpu.bandwidthBps();
        return layers * Math.max(flopsPerBlock / peak, bytesPerBlock / bw) + Math.max(flopsOther / peak, bytesOther / bw);
    }

    public boolean fits(Gpu gpu) {
        return peakDeviceBytes() <= gpu.memoryBytes();
    }

    /** "block weights fp16 0.00 GB + quantized block 0.00 GB". */
    public String describe() {
        return peakParts.entrySet().stream().map(e -> e.getKey() + " " + gb(e.getValue())).collect(Collectors.joining(" + "));
    }

    /** Bytes in decimal GB, as GPU vendors state memory. */
    public static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }
}
