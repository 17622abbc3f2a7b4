package dev.hardmine.registry;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of a {@link SchemaRegistryClient}.
 *
 * @param urls            registry base URLs, all {@code http(s)://…} (tried in turn when one fails) or one
 *                        {@code mock://NAME}
 * @param credentials     how to authenticate
 * @param connectTimeout  TCP (and TLS) connect timeout of one attempt
 * @param requestTimeout  timeout of one attempt, from sending the request to the end of the answer
 * @param maxRetries      retries after a failed attempt (connection error, timeout or 5xx; never after a 4xx)
 * @param retryBackoff    wait before the first retry; doubled for each further one, with jitter
 * @param maxRetryBackoff longest wait between two attempts
 * @param latestCacheTtl  how long the latest version of a subject is cached; negative = for ever, zero = never
 * @param tls             which certificates an {@code https://} registry may present
 */
public record RegistryClientConfig(
        List<String> urls,
        RegistryCredentials credentials,
        Duration connectTimeout,
        Duration requestTimeout,
        int maxRetries,
        Duration retryBackoff,
        Duration maxRetryBackoff,
        Duration latestCacheTtl,
        RegistryTls tls) {

    /** Prefix of the in-process registry URLs. */
    public static final String MOCK_SCHEME = "mock://";

    public RegistryClientConfig {
        urls = List.copyOf(urls);
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(retryBackoff, "retryBackoff");
        Objects.requireNonNull(maxRetryBackoff, "maxRetryBackoff");
        Objects.requireNonNull(latestCacheTtl, "latestCacheTtl");
        Objects.requireNonNull(tls, "tls");
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("schema.registry.url must name at least one registry URL");
        }
        boolean mock = urls.get(0).startsWith(MOCK_SCHEME);
        for (String url : urls) {
            if (url.startsWith(MOCK_SCHEME) != mock) {
                throw new IllegalArgumentException("schema.registry.url mixes mock:// and http(s):// URLs: " + urls);
            }
            if (!mock) {
                URI uri = URI.create(url);
                if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                    throw new IllegalArgumentException("schema.registry.url must be http(s)://HOST[:PORT][/PATH] or mock://NAME, got " + url);
                }
            }
        }
        if (mock && urls.size() > 1) {
            throw new IllegalArgumentException("schema.registry.url may name only one mock:// registry: " + urls);
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero() || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("registry timeouts must be positive");
        }
        if (maxRetries < 0) {
            throw new IllegalArgumentException("max.retries must be >= 0, got " + maxRetries);
        }
        if (retryBackoff.isNegative() || maxRetryBackoff.compareTo(retryBackoff) < 0) {
            throw new IllegalArgumentException("retries.wait.ms must be >= 0 and <= retries.max.wait.ms");
        }
    }

    /** Settings trusting the JVM's default trust store. */
    public RegistryClientConfig(List<String> urls, RegistryCredentials credentials, Duration connectTimeout,
                                Duration requestTimeout, int maxRetries, Duration retryBackoff,
                                Duration maxRetryBackoff, Duration latestCacheTtl) {
        this(urls, credentials, connectTimeout, requestTimeout, maxRetries, retryBackoff, maxRetryBackoff,
                latestCacheTtl, RegistryTls.jvmDefault());
    }

    /**
     * Defaults for the given URL(s) (comma-separated): no credentials, 10 s connect and 30 s request
     * timeouts, 3 retries waiting from 1 s up to 20 s, latest versions cached for ever (Confluent's defaults
     * for retries and caching), the JVM's default trust store.
     */
    public static RegistryClientConfig of(String urls) {
        return new RegistryClientConfig(splitUrls(urls), RegistryCredentials.none(),
                Duration.ofSeconds(10), Duration.ofSeconds(30), 3,
                Duration.ofSeconds(1), Duration.ofSeconds(20), Duration.ofSeconds(-1));
    }

    /** True when this names an in-process {@code mock://} registry. */
    public boolean isMock() {
        return urls.get(0).startsWith(MOCK_SCHEME);
    }

    /** A copy with other credentials. */
    public RegistryClientConfig withCredentials(RegistryCredentials credentials) {
        return new RegistryClientConfig(urls, credentials, connectTimeout, requestTimeout, maxRetries, retryBackoff, maxRetryBackoff, latestCacheTtl, tls);
    }

    /** A copy with other connect and per-attempt request timeouts. */
    public RegistryClientConfig withTimeouts(Duration connectTimeout, Duration requestTimeout) {
        return new RegistryClientConfig(urls, credentials, connectTimeout, requestTimeout, maxRetries, retryBackoff, maxRetryBackoff, latestCacheTtl, tls);
    }

    /** A copy with another retry count and backoff range. */
    public RegistryClientConfig withRetries(int maxRetries, Duration retryBackoff, Duration maxRetryBackoff) {
        return new RegistryClientConfig(urls, credentials, connectTimeout, requestTimeout, maxRetries, retryBackoff, maxRetryBackoff, latestCacheTtl, tls);
    }

    /** A copy caching latest versions for another time (negative = for ever, zero = never). */
    public RegistryClientConfig withLatestCacheTtl(Duration latestCacheTtl) {
        return new RegistryClientConfig(urls, credentials, connectTimeout, requestTimeout, maxRetries, retryBackoff, maxRetryBackoff, latestCacheTtl, tls);
    }

    /** A copy trusting other certificates. */
    public RegistryClientConfig withTls(RegistryTls tls) {
        return new RegistryClientConfig(urls, credentials, connectTimeout, requestTimeout, maxRetries, retryBackoff, maxRetryBackoff, latestCacheTtl, tls);
    }

    /** Comma-separated URLs, trimmed, without a trailing slash. */
    static List<String> splitUrls(String urls) {
        Objects.requireNonNull(urls, "schema.registry.url");
        return java.util.Arrays.stream(urls.split(","))
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .map(s -> s.endsWith("/") && !s.startsWith(MOCK_SCHEME) ? s.substring(0, s.length() - 1) : s)
                .toList();
    }
}
