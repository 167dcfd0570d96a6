package dev.featherweight.servicesecurity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The per-deployment service credential: one secret shared by the services of a deployment (the standalone
 * launcher generates it into its data directory; Helm takes it from a Secret). Callers of an internal API
 * (gateway, workers) send it in {@link #HEADER}; the internal services refuse any request without it.
 * Rotated by restarting every service with a new value.
 */
public final class ServiceCredential {
    public static final String HEADER = "X-Service-Credential";
    /** The property every service reads it from ({@code FW_SERVICE_CREDENTIAL} in the shipped configuration). */
    public static final String PROPERTY = "featherweight.service-credential";
    /** Shorter values are refused at startup: the credential must not be guessable. */
    public static final int MIN_LENGTH = 32;

    /** The configured credential, or an exception that names the setting when it is missing or too short. */
    public static String require(String configured) {
        if (configured == null || configured.isBlank())
            throw new IllegalStateException(PROPERTY + " (environment FW_SERVICE_CREDENTIAL) is not set: every service of a deployment needs the same secret");
        if (configured.strip().length() < MIN_LENGTH)
            throw new IllegalStateException(PROPERTY + " must have at least " + MIN_LENGTH + " characters");
        return configured.strip();
    }

    /** Constant-time comparison, so that timing reveals nothing about the credential. */
    static boolean matches(String expected, String presented) {
        return presented != null && MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), presented.getBytes(StandardCharsets.UTF_8));
    }

    private ServiceCredential() {}
}
