package dev.featherweight.kernels.formats.gguf;

import java.util.List;

/**
 * One GGUF metadata value with its exact stored type, so a writer can reproduce it byte for byte.
 * Java values: UINT8/INT8/UINT16/INT16/INT32 as Integer (unsigned ones zero-extended), UINT32, UINT64
 * and INT64 as Long (UINT64 as the raw bits), FLOAT32 as Float, FLOAT64 as Double, BOOL as Boolean,
 * STRING as String, ARRAY as an unmodifiable List of such values with {@link #elementType()}.
 */
public record GgufValue(GgufValueType type, Object value, GgufValueType elementType) {
    public static GgufValue of(GgufValueType type, Object value) {
        return new GgufValue(type, value, null);
    }

    public static GgufValue array(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, List.copyOf(values), elementType);
    }

    public static GgufValue string(String s) {
        return of(GgufValueType.STRING, s);
    }

    public static GgufValue uint32(long v) {
        return of(GgufValueType.UINT32, v);
    }

    public static GgufValue float32(float v) {
        return of(GgufValueType.FLOAT32, v);
    }

    public static GgufValue bool(boolean v) {
        return of(GgufValueType.BOOL, v);
    }

    public String asString() {
        return (String) value;
    }

    /** Any integer type as a long. */
    public long asLong() {
        return ((Number) value).longValue();
    }

    public int asInt() {
        return Math.toIntExact(asLong());
    }

    public double asDouble() {
        return ((Number) value).doubleValue();
    }

    public boolean asBoolean() {
        return (Boolean) value;
    }

    @SuppressWarnings("unchecked")
    public List<Object> asList() {
        return (List<Object>) value;
    }
}
