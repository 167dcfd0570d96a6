package dev.featherweight.catalog;

/**
 * One thing wrong with a request: the JSON path of the offending value ({@code recipes[0].damp}) and a
 * message a user can act on. Validation collects every problem rather than stopping at the first.
 */
public record Problem(String field, String message) {
    @Override
    public String toString() {
        return field + ": " + message;
    }
}
