package dev.featherweight.gateway;

import org.springframework.http.HttpStatus;

import java.util.List;
import java.util.regex.Pattern;

/** Ids in paths (jobs, artifacts, tenants, keys): short plain tokens, so no id can smuggle a path or a query into an internal call. */
final class Ids {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    static String check(String what, String id) {
        if (id == null || !ID.matcher(id).matches() || id.contains(".."))
            throw new ApiException(HttpStatus.BAD_REQUEST, "invalid " + what, List.of(what + ": 1-128 letters, digits, '.', '_' or '-'"));
        return id;
    }

    private Ids() {}
}
