package dev.hardmine.cli;

import dev.hardmine.runtime.ServiceSettings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.ListResourceBundle;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The flags that set a declared key ({@link ServiceSettings#CONFIG}): an option whose
 * {@code descriptionKey} is the key. Such an option has no default of its own (a flag left out
 * keeps what the file, the environment or the declaration says) and takes its help, default
 * included, from the declaration through the command's resource bundle, {@link Help}.
 */
final class SettingFlags {
    /** The resource bundle's name, for {@code @Command(resourceBundle = ...)}. */
    static final String HELP = "dev.hardmine.cli.SettingFlags$Help";

    private SettingFlags() {
    }

    /** The options of {@code spec} (its mixins' included) that set a declared key, by key. */
    static Map<String, OptionSpec> options(CommandSpec spec) {
        Map<String, OptionSpec> options = new LinkedHashMap<>();
        for (OptionSpec option : spec.options()) {
            if (ServiceSettings.CONFIG.names().contains(option.descriptionKey())) {
                options.put(option.descriptionKey(), option);
            }
        }
        return options;
    }

    /** The keys set by the flags given on the command line, with their values. */
    static Map<String, String> given(CommandSpec spec) {
        Map<String, String> given = new LinkedHashMap<>();
        options(spec).forEach((key, option) -> {
            Object value = option.getValue();
            if (value != null) {
                given.put(key, value.toString());
            }
        });
        return given;
    }

    /**
     * The keys of the flags of {@code spec}: the flags given, over the environment's variables for
     * those keys, over {@code defaults} (a command's own defaults); declared defaults fill in the rest
     * when the keys are parsed. For commands without a configuration file.
     */
    static Map<String, String> resolve(CommandSpec spec, Map<String, String> environment,
                                       Map<String, String> defaults) {
        return ServiceSettings.layered(defaults, ServiceSettings.fromEnvironment(environment, options(spec).keySet()),
                given(spec));
    }

    /** A key's default as a user writes it: {@code 0.2}, {@code 200}, {@code (required)}, {@code (none)}. */
    static String defaultText(ConfigKey key) {
        Object value = key.defaultValue;
        if (value == ConfigDef.NO_DEFAULT_VALUE) {
            return "(required)";
        }
        if (value == null) {
            return "(none)";
        }
        if (value instanceof Double d && d == Math.rint(d) && !d.isInfinite()) {
            return Long.toString(d.longValue());
        }
        return ConfigDef.convertToString(value, key.type);
    }

    /** The help of a flag: the key's documentation, then its key and default. */
    static String help(ConfigKey key) {
        String doc = key.documentation.replace("`", "");
        String value = key.defaultValue == ConfigDef.NO_DEFAULT_VALUE ? "required"
                : key.defaultValue == null ? "none by default" : "default: " + defaultText(key);
        return doc + " (key " + key.name + ", " + value + ").";
    }

    /** The help of every declared key, by key: picocli looks an option's description up by its descriptionKey. */
    public static final class Help extends ListResourceBundle {
        @Override
        protected Object[][] getContents() {
            List<ConfigKey> keys = List.copyOf(ServiceSettings.CONFIG.configKeys().values());
            Object[][] contents = new Object[keys.size()][];
            for (int i = 0; i < keys.size(); i++) {
                contents[i] = new Object[] {keys.get(i).name, help(keys.get(i))};
            }
            return contents;
        }
    }
}
