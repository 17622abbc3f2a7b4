package dev.hardmine.runtime;

import dev.hardmine.stream.ServiceConfig;
import dev.hardmine.web.HttpSettings;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Everything a service instance is configured with: the service's keys ({@link ServiceConfig#CONFIG})
 * and the HTTP side's ({@link HttpSettings#CONFIG}), each declared once, resolved from four sources
 * in this order of precedence: flags, the properties file, the environment, the defaults. A value
 * left empty counts as not given, in every source.
 *
 * <p>The environment gives a key as {@code HARDMINE_} and the key in upper case with dots and
 * dashes as underscores ({@code mining.margin} is {@code HARDMINE_MINING_MARGIN},
 * {@code http.token} is {@code HARDMINE_HTTP_TOKEN}); it fills in what the file leaves out, so that
 * a secret such as the token need not be written in a file or on a command line. The
 * {@code kafka.*} passthrough keys come from the file and flags only: their names are Kafka's own.
 */
public record ServiceSettings(ServiceConfig service, HttpSettings http) {
    public static final String ENVIRONMENT_PREFIX = "HARDMINE_";

    /** Every key: the service's, then the HTTP side's. */
    public static final ConfigDef CONFIG = withKeys(new ConfigDef(ServiceConfig.CONFIG), HttpSettings.CONFIG);

    private static ConfigDef withKeys(ConfigDef def, ConfigDef more) {
        more.configKeys().values().forEach(def::define);
        return def;
    }

    /**
     * Resolves the settings: {@code flags} over {@code file} over the declared keys found in
     * {@code environment} over the defaults.
     *
     * @throws ConfigException naming the key that is unknown, missing or wrong
     */
    public static ServiceSettings resolve(Map<String, String> file, Map<String, String> environment,
                                          Map<String, String> flags) {
        Map<String, String> settings = layered(fromEnvironment(environment, CONFIG.names()), file, flags);
        Map<String, String> service = new LinkedHashMap<>(settings);
        service.keySet().removeAll(HttpSettings.CONFIG.names());
        return new ServiceSettings(ServiceConfig.from(service), HttpSettings.from(settings));
    }

    /**
     * The sources merged, each over the ones before it; an empty value does not hide the value of a
     * source below.
     */
    @SafeVarargs
    public static Map<String, String> layered(Map<String, String>... lowestFirst) {
        Map<String, String> merged = new LinkedHashMap<>();
        for (Map<String, String> source : lowestFirst) {
            source.forEach((key, value) -> {
                if (value != null && !value.isBlank()) {
                    merged.put(key, value);
                }
            });
        }
        return merged;
    }

    /** The variable that gives {@code key} in the environment, e.g. {@code HARDMINE_MINING_MARGIN}. */
    public static String environmentVariable(String key) {
        return ENVIRONMENT_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** The {@code keys} that {@code environment} gives, by their keys. */
    public static Map<String, String> fromEnvironment(Map<String, String> environment, Collection<String> keys) {
        Map<String, String> found = new LinkedHashMap<>();
        for (String key : keys) {
            String value = environment.get(environmentVariable(key));
            if (value != null) {
                found.put(key, value);
            }
        }
        return found;
    }

    /** The keys and values of a properties file. */
    public static Map<String, String> load(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        Map<String, String> settings = new LinkedHashMap<>();
        p.stringPropertyNames().forEach(key -> settings.put(key, p.getProperty(key)));
        return settings;
    }
}
