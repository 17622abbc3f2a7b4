package dev.hardmine.web;

import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * Where the HTTP side listens and the token it asks for, from the keys declared in {@link #CONFIG}
 * (whose values this record checks, as it is also built directly).
 * The token may come from the environment variable {@value #TOKEN_ENV}, so that it need not appear
 * on a command line or in a file.
 */
public record HttpSettings(String bind, int port, String token) {
    public static final String TOKEN_ENV = "HARDMINE_HTTP_TOKEN";
    public static final int DEFAULT_PORT = 8080;
    public static final String DEFAULT_BIND = "127.0.0.1";

    /** The {@code http.*} keys. */
    public static final ConfigDef CONFIG = new ConfigDef()
            .define("http.port", Type.INT, DEFAULT_PORT, Importance.HIGH,
                    "Port of the live page, the HTTP API and `/metrics`; 0 = any free port")
            .define("http.bind", Type.STRING, DEFAULT_BIND, Importance.HIGH,
                    "Address the HTTP server binds")
            .define("http.token", Type.PASSWORD, null, Importance.HIGH,
                    "Bearer token required on `/api/…` and `/metrics`, best given in the environment ("
                    + TOKEN_ENV + ") to keep it off command lines and files; none = open");

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
     * The settings from the {@code http.*} keys of {@code settings}, defaults for those missing;
     * other keys are ignored.
     *
     * @throws ConfigException naming the key whose value is wrong
     */
    public static HttpSettings from(Map<String, ?> settings) {
        Map<String, Object> v = CONFIG.parse(settings);
        Password token = (Password) v.get("http.token");
        try {
            return new HttpSettings(((String) v.get("http.bind")).trim(), (Integer) v.get("http.port"),
                    token == null ? null : token.value());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /** The settings with the token hidden: safe for a log line. */
    @Override
    public String toString() {
        return "HttpSettings[bind=" + bind + ", port=" + port + ", token=" + (token == null ? "none" : "***") + "]";
    }
}
