package dev.hardmine.web;

import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The bearer token that protects {@code /api/…} and {@code /metrics}, or none (the API is open).
 * A request is checked against the token's SHA-256: digests of equal length are compared in
 * constant time, so the time a check takes tells nothing about the token or its length.
 */
final class BearerAuth {
    static final String CHALLENGE = "Bearer realm=\"hardmine\"";
    private static final String SCHEME = "Bearer ";

    /** Null when the API is open. */
    private final String token;
    private final byte[] tokenDigest;

    /** @param token the token; null or empty for an open API */
    BearerAuth(String token) {
        this.token = token == null || token.isEmpty() ? null : token;
        this.tokenDigest = this.token == null ? null : sha256(this.token);
    }

    /**
     * Whether a request may pass: always when there is no token, else when its
     * {@code Authorization} header is {@code Bearer TOKEN} (the scheme in any case) or, without
     * such a header, when {@code fallback} (a token the request carries elsewhere; may be null) is
     * the token.
     */
    boolean allows(String authorizationHeader, String fallback) {
        if (tokenDigest == null) {
            return true;
        }
        String given = authorizationHeader != null && authorizationHeader.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
                ? authorizationHeader.substring(SCHEME.length()).trim() : fallback;
        return given != null && MessageDigest.isEqual(tokenDigest, sha256(given));
    }

    /** Adds the token to a request to another instance (which shares it), if there is one. */
    void sign(HttpRequest.Builder request) {
        if (token != null) {
            request.header("Authorization", SCHEME + token);
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
