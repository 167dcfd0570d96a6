package dev.featherweight.contracts;

import java.util.List;
import java.util.regex.Pattern;

/** Small validation helpers that produce messages naming the field, the value and what is allowed. */
final class Checks {
    static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    static void range(List<String> errors, String field, long value, long min, long max) {
        if (value < min || value > max) errors.add(field + ": " + value + " is outside [" + min + ", " + max + "]");
    }

    static void id(List<String> errors, String field, String value) {
        if (value == null || !ID.matcher(value).matches())
            errors.add(field + ": required, 1-128 characters of letters, digits, '.', '_' or '-'");
    }

    private Checks() {}
}
