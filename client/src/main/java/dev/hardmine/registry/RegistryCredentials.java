package dev.hardmine.registry;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

/**
 * How the client authenticates to the registry: not at all, with HTTP basic credentials
 * ({@code basic.auth.user.info=USER:PASSWORD}), or with a static bearer token ({@code bearer.auth.token}).
 * {@code toString()} never shows the secret.
 */
public sealed interface RegistryCredentials {

    /** The value of the {@code Authorization} header, if any. */
    Optional<String> authorizationHeader();

    /** No credentials. */
    static RegistryCredentials none() {
        return None.INSTANCE;
    }

    /** HTTP basic credentials. */
    static RegistryCredentials basic(String user, String password) {
        return new Basic(user, password);
    }

    /**
     * Basic credentials from Confluent's {@code USER:PASSWORD} form (the password may contain colons).
     *
     * @throws IllegalArgumentException when there is no colon
     */
    static RegistryCredentials basicUserInfo(String userInfo) {
        int colon = userInfo.indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("basic.auth.user.info must be USER:PASSWORD");
        }
        return new Basic(userInfo.substring(0, colon), userInfo.substring(colon + 1));
    }

    /** A static bearer token. */
    static RegistryCredentials bearer(String token) {
        return new Bearer(token);
    }

    /** No credentials. */
    enum None implements RegistryCredentials {
        INSTANCE;

        @Override
        public Optional<String> authorizationHeader() {
            return Optional.empty();
        }
    }

    /** HTTP basic credentials. */
    record Basic(String user, String password) implements RegistryCredentials {
        public Basic {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(password, "password");
        }

        @Override
        public Optional<String> authorizationHeader() {
            String pair = user + ":" + password;
            return Optional.of("Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
        }

        @Override
        public String toString() {
            return "Basic[user=" + user + ", password=***]";
        }
    }

    /** A static bearer token. */
    record Bearer(String token) implements RegistryCredentials {
        public Bearer {
            Objects.requireNonNull(token, "token");
            if (token.isBlank()) {
                throw new IllegalArgumentException("bearer.auth.token must not be blank");
            }
        }

        @Override
        public Optional<String> authorizationHeader() {
            return Optional.of("Bearer " + token);
        }

        @Override
        public String toString() {
            return "Bearer[token=***]";
        }
    }
}
