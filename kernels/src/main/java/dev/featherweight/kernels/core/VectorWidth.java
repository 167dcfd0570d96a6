package dev.featherweight.kernels.core;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes of this CPU, in one place: every kernel takes its widths from here (or from
 * {@code SPECIES_PREFERRED}), never a fixed 512/256-bit species — an unsupported shape falls back to the Vector
 * API's scalar emulation (an AVX2 or 128-bit NEON machine ran fixed 512-bit code ~100× slower). Kernels whose
 * results are pinned (GGUF bytes, the integer dots) are written so the lane count changes only the speed.
 */
public final class VectorWidth {
    private VectorWidth() {
    }

    /** Floats per vector of this CPU (16 with AVX-512, 8 with AVX2, 4 with SSE/NEON or {@code -XX:MaxVectorSize=16}). */
    public static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    /**
     * Bytes widened to floats per step: as many bytes as float lanes, but at least 8 (the smallest byte
     * vector), so a 4-float CPU widens 8 bytes in two parts ({@link #BYTE_PARTS}).
     */
    public static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, FLOATS.length() * 8)));
    /** Float vectors per {@link #BYTES} vector (1, or 2 when floats have 4 lanes): the {@code part} of convertShape. */
    public static final int BYTE_PARTS = BYTES.length() / FLOATS.length();

    /** One line for logs and benchmarks: e.g. "512-bit (16 floats)". */
    public static String describe() {
        return FLOATS.vectorBitSize() + "-bit (" + FLOATS.length() + " floats)";
    }
}
