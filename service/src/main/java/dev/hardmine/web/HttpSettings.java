package dev.hardmine.web;

import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where the HTTP side listens and the token it asks for: keys {@code http.bind} (default
 * 127.0.0.1), {@code http.port} (default 8080, 0 = any free port) and {@code http.token} (none by
 * default); the environment variable {@value #TOKEN_ENV} gives the token when no key or flag does,
 * so that it need not appear on a command line or in a file.
 */
public record HttpSettings(String bind, int port, String token) {
    public static final String TOKEN_ENV = "HARDMINE_HTTP_TOKEN";
    public static final int DEFAULT_PORT = 8080;
    public static final String DEFAULT_BIND = "127.0.0.1";
    private static final Set<String> KEYS = Set.of("http.bind", "http.port", "http.token");

    public HttpSettings {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("http.port must be between 0 and 65535, got " + port);
        }
        if (bind == null || bind.isBlank()) {
            throw new IllegalArgumentException("http.bind must not be empty");
        }
        token = token == null || token.isEmpty() ? null : token;
    }

    /**
     * Takes the {@code http.*} keys out of {@code p} (what remains is the service's configuration);
     * an unknown {@code http.*} key is an error.
     */
    public static HttpSettings take(Properties p, Map<String, String> env) {
        Set<String> unknown = new TreeSet<>();
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith("http.") && !KEYS.contains(key)) {
                unknown.add(key);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown configuration keys " + unknown
                    + " (the HTTP keys are http.bind, http.port, http.token)");
        }
        String bind = (String) p.remove("http.bind");
        String port = (String) p.remove("http.port");
        String token = (String) p.remove("http.token");
        int portNumber;
        try {
            portNumber = port == null || port.isBlank() ? DEFAULT_PORT : Integer.parseInt(port.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("http.port must be an integer, got '" + port + "'");
        }
        return new HttpSettings(bind == null || bind.isBlank() ? DEFAULT_BIND : bind.trim(), portNumber,
                tokenOr(token, env));
    }

    /** {@code given} if set, else the token in the environment, else null (no token). */
    public static String tokenOr(String given, Map<String, String> env) {
        if (given != null && !given.isEmpty()) {
            return given;
        }
        String fromEnv = env.get(TOKEN_ENV);
        return fromEnv == null || fromEnv.isEmpty() ? null : fromEnv;
    }
}
