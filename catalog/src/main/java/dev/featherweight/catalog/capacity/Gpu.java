package dev.featherweight.catalog.capacity;

/**
 * One GPU of the catalog, in SI units: bytes (1 GB = 1e9, as vendors state memory), bytes/s, FLOP/s.
 *
 * @param fp16Flops       dense FP16/BF16 tensor-core FLOP/s (no sparsity)
 * @param int8Ops         dense INT8 OP/s (also FP8 when {@code fp8})
 * @param interconnect    the tensor-parallel link: "nvlink", "pcie", "infinity-fabric"
 * @param interconnectBps its bandwidth per GPU and per direction, bytes/s
 * @param hourlyUsd       price of one GPU-hour, for cost figures (0 when unknown)
 */
public record Gpu(String name, long memoryBytes, double bandwidthBps, double fp16Flops, double int8Ops, boolean fp8,
                  String interconnect, double interconnectBps, double hourlyUsd) {
    public Gpu {
        if (memoryBytes <= 0 || bandwidthBps <= 0 || fp16Flops <= 0 || int8Ops <= 0 || interconnectBps <= 0 || hourlyUsd < 0) {
            throw new CapacityException("GPU " + name + " needs positive memory, bandwidth, FLOP/s and interconnect bandwidth, and a non-negative price");
        }
    }

    /** Peak rate for the arithmetic a precision runs on (weight-only quantized models still compute in fp16). */
    public double peak(Precision p) {
        return switch (p) {
            case FP16 -> fp16Flops;
            case INT8 -> int8Ops;
            case FP8 -> fp8 ? int8Ops : fp16Flops;
        };
    }

    public Gpu withHourlyUsd(double usd) {
        return new Gpu(name, memoryBytes, bandwidthBps, fp16Flops, int8Ops, fp8, interconnect, interconnectBps, usd);
    }
}
