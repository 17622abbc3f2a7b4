package dev.hardmine.registry;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.config.types.Password;

/**
 * Settings of the {@link AvroSerde}, read from the same keys as Confluent's serdes so that one
 * properties file configures both.
 *
 * <table>
 *   <caption>Keys</caption>
 *   <tr><th>key</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@value #SCHEMA_REGISTRY_URL}</td><td>(required)</td><td>{@code http(s)://…} (comma-separated for several) or {@code mock://NAME}</td></tr>
 *   <tr><td>{@value #AUTO_REGISTER_SCHEMAS}</td><td>true</td><td>register the record's schema on first use</td></tr>
 *   <tr><td>{@value #USE_LATEST_VERSION}</td><td>false</td><td>write with the subject's latest schema (needs auto-registration off)</td></tr>
 *   <tr><td>{@value #LATEST_CACHE_TTL_SEC}</td><td>-1</td><td>seconds the latest version stays cached; -1 = for ever</td></tr>
 *   <tr><td>{@value #BASIC_AUTH_CREDENTIALS_SOURCE}</td><td>USER_INFO</td><td>USER_INFO, or URL for credentials in the URL</td></tr>
 *   <tr><td>{@value #BASIC_AUTH_USER_INFO}</td><td></td><td>{@code USER:PASSWORD}</td></tr>
 *   <tr><td>{@value #BEARER_AUTH_TOKEN}</td><td></td><td>a static bearer token</td></tr>
 *   <tr><td>{@value #SSL_TRUSTSTORE_LOCATION}, {@value #SSL_TRUSTSTORE_PASSWORD}, {@value #SSL_TRUSTSTORE_TYPE}</td>
 *       <td>the JVM's, JKS</td><td>the certificates an {@code https://} registry may present (see {@link RegistryTls});
 *       only with the prefix, as the unprefixed keys are the Kafka client's own</td></tr>
 *   <tr><td>{@value #KEY_SUBJECT_NAME_STRATEGY}, {@value #VALUE_SUBJECT_NAME_STRATEGY}</td><td>TopicNameStrategy</td><td>see {@link SubjectNameStrategy}</td></tr>
 *   <tr><td>{@value #HTTP_CONNECT_TIMEOUT_MS}, {@value #HTTP_READ_TIMEOUT_MS}</td><td>10000, 30000</td><td>bounds of one request</td></tr>
 *   <tr><td>{@value #MAX_RETRIES}, {@value #RETRIES_WAIT_MS}, {@value #RETRIES_MAX_WAIT_MS}</td><td>3, 1000, 20000</td><td>retries of failed requests</td></tr>
 * </table>
 * Registry-client keys are also accepted with the {@code schema.registry.} prefix
 * ({@code schema.registry.basic.auth.user.info}), as Confluent accepts them.
 *
 * @param client                    the registry client's settings
 * @param autoRegisterSchemas       register schemas on first use
 * @param useLatestVersion          serialize with the subject's latest schema
 * @param keySubjectNameStrategy    subject of keys
 * @param valueSubjectNameStrategy  subject of values
 */
public record SerdeConfig(
        RegistryClientConfig client,
        boolean autoRegisterSchemas,
        boolean useLatestVersion,
        SubjectNameStrategy keySubjectNameStrategy,
        SubjectNameStrategy valueSubjectNameStrategy) {

    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
    public static final String USE_LATEST_VERSION = "use.latest.version";
    public static final String LATEST_CACHE_TTL_SEC = "latest.cache.ttl.sec";
    public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";
    public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
    public static final String BEARER_AUTH_CREDENTIALS_SOURCE = "bearer.auth.credentials.source";
    public static final String BEARER_AUTH_TOKEN = "bearer.auth.token";
    public static final String KEY_SUBJECT_NAME_STRATEGY = "key.subject.name.strategy";
    public static final String VALUE_SUBJECT_NAME_STRATEGY = "value.subject.name.strategy";
    public static final String HTTP_CONNECT_TIMEOUT_MS = "http.connect.timeout.ms";
    public static final String HTTP_READ_TIMEOUT_MS = "http.read.timeout.ms";
    public static final String MAX_RETRIES = "max.retries";
    public static final String RETRIES_WAIT_MS = "retries.wait.ms";
    public static final String RETRIES_MAX_WAIT_MS = "retries.max.wait.ms";
    public static final String SSL_TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";
    public static final String SSL_TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";
    public static final String SSL_TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type";

    private static final String CLIENT_PREFIX = "schema.registry.";

    public SerdeConfig {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(keySubjectNameStrategy, "keySubjectNameStrategy");
        Objects.requireNonNull(valueSubjectNameStrategy, "valueSubjectNameStrategy");
    }

    /** Defaults for a registry URL: auto-registration, TopicNameStrategy, the client defaults. */
    public static SerdeConfig of(String registryUrl) {
        return new SerdeConfig(RegistryClientConfig.of(registryUrl), true, false,
                SubjectNameStrategy.TOPIC_NAME, SubjectNameStrategy.TOPIC_NAME);
    }

    /**
     * Reads the keys above from a Kafka-style configuration map (values may be strings or typed).
     *
     * @throws IllegalArgumentException with the key's name when a value is missing or invalid
     */
    public static SerdeConfig fromMap(Map<String, ?> configs) {
        String urls = string(configs, SCHEMA_REGISTRY_URL, null);
        if (urls == null || urls.isBlank()) {
            throw new IllegalArgumentException(SCHEMA_REGISTRY_URL + " is required (http(s)://HOST:PORT or mock://NAME)");
        }
        List<String> urlList = RegistryClientConfig.splitUrls(urls);
        RegistryCredentials credentials = credentials(configs, urlList);
        if (credentials instanceof RegistryCredentials.Basic && "URL".equals(clientString(configs, BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO"))) {
            urlList = urlList.stream().map(SerdeConfig::withoutUserInfo).toList();
        }
        RegistryClientConfig client = new RegistryClientConfig(urlList, credentials,
                Duration.ofMillis(clientLong(configs, HTTP_CONNECT_TIMEOUT_MS, 10_000)),
                Duration.ofMillis(clientLong(configs, HTTP_READ_TIMEOUT_MS, 30_000)),
                (int) clientLong(configs, MAX_RETRIES, 3),
                Duration.ofMillis(clientLong(configs, RETRIES_WAIT_MS, 1_000)),
                Duration.ofMillis(clientLong(configs, RETRIES_MAX_WAIT_MS, 20_000)),
                Duration.ofSeconds(clientLong(configs, LATEST_CACHE_TTL_SEC, -1)),
                tls(configs));
        boolean autoRegister = bool(configs, AUTO_REGISTER_SCHEMAS, true);
        boolean useLatest = bool(configs, USE_LATEST_VERSION, false);
        return new SerdeConfig(client, autoRegister, useLatest,
                SubjectNameStrategy.parse(string(configs, KEY_SUBJECT_NAME_STRATEGY, "TopicNameStrategy")),
                SubjectNameStrategy.parse(string(configs, VALUE_SUBJECT_NAME_STRATEGY, "TopicNameStrategy")));
    }

    /** A copy with other registry client settings. */
    public SerdeConfig withClient(RegistryClientConfig client) {
        return new SerdeConfig(client, autoRegisterSchemas, useLatestVersion, keySubjectNameStrategy, valueSubjectNameStrategy);
    }

    /** A copy that does or does not register schemas on first use. */
    public SerdeConfig withAutoRegisterSchemas(boolean autoRegisterSchemas) {
        return new SerdeConfig(client, autoRegisterSchemas, useLatestVersion, keySubjectNameStrategy, valueSubjectNameStrategy);
    }

    /** A copy that does or does not write with the subject's latest schema. */
    public SerdeConfig withUseLatestVersion(boolean useLatestVersion) {
        return new SerdeConfig(client, autoRegisterSchemas, useLatestVersion, keySubjectNameStrategy, valueSubjectNameStrategy);
    }

    /** A copy with another subject name strategy for values. */
    public SerdeConfig withValueSubjectNameStrategy(SubjectNameStrategy strategy) {
        return new SerdeConfig(client, autoRegisterSchemas, useLatestVersion, keySubjectNameStrategy, strategy);
    }

    /** A copy with another subject name strategy for keys. */
    public SerdeConfig withKeySubjectNameStrategy(SubjectNameStrategy strategy) {
        return new SerdeConfig(client, autoRegisterSchemas, useLatestVersion, strategy, valueSubjectNameStrategy);
    }

    /** The strategy for keys or values. */
    public SubjectNameStrategy subjectNameStrategy(boolean isKey) {
        return isKey ? keySubjectNameStrategy : valueSubjectNameStrategy;
    }

    private static RegistryCredentials credentials(Map<String, ?> configs, List<String> urls) {
        String basicSource = clientString(configs, BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO").toUpperCase(Locale.ROOT);
        String userInfo = clientString(configs, BASIC_AUTH_USER_INFO, null);
        String token = clientString(configs, BEARER_AUTH_TOKEN, null);
        String bearerSource = clientString(configs, BEARER_AUTH_CREDENTIALS_SOURCE, "STATIC_TOKEN").toUpperCase(Locale.ROOT);
        if (!"STATIC_TOKEN".equals(bearerSource)) {
            throw new IllegalArgumentException(BEARER_AUTH_CREDENTIALS_SOURCE + "=" + bearerSource + " is not supported; use STATIC_TOKEN");
        }
        RegistryCredentials basic = null;
        switch (basicSource) {
            case "USER_INFO" -> {
                if (userInfo != null && !userInfo.isEmpty()) {
                    basic = RegistryCredentials.basicUserInfo(userInfo);
                }
            }
            case "URL" -> {
                String info = URI.create(urls.get(0)).getRawUserInfo();
                if (info == null) {
                    throw new IllegalArgumentException(BASIC_AUTH_CREDENTIALS_SOURCE + "=URL but " + SCHEMA_REGISTRY_URL + " has no USER:PASSWORD@");
                }
                basic = RegistryCredentials.basicUserInfo(java.net.URLDecoder.decode(info, java.nio.charset.StandardCharsets.UTF_8));
            }
            default -> throw new IllegalArgumentException(BASIC_AUTH_CREDENTIALS_SOURCE + "=" + basicSource
                    + " is not supported; use USER_INFO or URL");
        }
        boolean hasToken = token != null && !token.isEmpty();
        if (basic != null && hasToken) {
            throw new IllegalArgumentException("Set either " + BASIC_AUTH_USER_INFO + " or " + BEARER_AUTH_TOKEN + ", not both");
        }
        if (hasToken) {
            return RegistryCredentials.bearer(token);
        }
        return basic != null ? basic : RegistryCredentials.none();
    }

    private static RegistryTls tls(Map<String, ?> configs) {
        String location = string(configs, SSL_TRUSTSTORE_LOCATION, null);
        String password = string(configs, SSL_TRUSTSTORE_PASSWORD, null);
        String type = string(configs, SSL_TRUSTSTORE_TYPE, RegistryTls.DEFAULT_TRUSTSTORE_TYPE);
        return new RegistryTls(location == null || location.isBlank() ? null : Path.of(location.trim()),
                password == null || password.isEmpty() ? null : password, type.trim().toUpperCase(Locale.ROOT));
    }

    private static String withoutUserInfo(String url) {
        URI uri = URI.create(url);
        if (uri.getRawUserInfo() == null) {
            return url;
        }
        return url.replace(uri.getRawUserInfo() + "@", "");
    }

    private static String clientString(Map<String, ?> configs, String key, String defaultValue) {
        String prefixed = string(configs, CLIENT_PREFIX + key, null);
        return prefixed != null ? prefixed : string(configs, key, defaultValue);
    }

    private static long clientLong(Map<String, ?> configs, String key, long defaultValue) {
        String value = clientString(configs, key, null);
        if (value == null || value.isBlank()) {
            return defaultValue;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be an integer, got '" + value + "'");
        }
    }

    private static boolean bool(Map<String, ?> configs, String key, boolean defaultValue) {
        String value = string(configs, key, null);
        if (value == null || value.isBlank()) {
            return defaultValue;
        }
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(key + " must be true or false, got '" + value + "'");
        };
    }

    private static String string(Map<String, ?> configs, String key, String defaultValue) {
        Object value = configs.get(key);
        if (value == null) {
            return defaultValue;
        }
        if (value instanceof Password password) {
            return password.value();
        }
        if (value instanceof List<?> list) {
            List<String> parts = new ArrayList<>();
            list.forEach(o -> parts.add(String.valueOf(o)));
            return String.join(",", parts);
        }
        return value.toString();
    }
}
