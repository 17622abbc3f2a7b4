package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class HttpSettingsTest {
    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void defaultsAreLoopbackPort8080AndNoToken() {
        assertThat(HttpSettings.take(props(), Map.of())).isEqualTo(new HttpSettings("127.0.0.1", 8080, null));
    }

    @Test
    void theHttpKeysAreTakenOutAndTheRestIsLeftForTheService() {
        Properties p = props("http.port", "9000", "http.bind", "0.0.0.0", "http.token", "t", "application.id", "a");
        assertThat(HttpSettings.take(p, Map.of())).isEqualTo(new HttpSettings("0.0.0.0", 9000, "t"));
        assertThat(p.stringPropertyNames()).containsExactly("application.id");
    }

    @Test
    void theEnvironmentGivesTheTokenOnlyWhenNoKeyOrFlagDoes() {
        Map<String, String> env = Map.of(HttpSettings.TOKEN_ENV, "from-env");
        assertThat(HttpSettings.take(props(), env).token()).isEqualTo("from-env");
        assertThat(HttpSettings.take(props("http.token", "from-file"), env).token()).isEqualTo("from-file");
        assertThat(HttpSettings.tokenOr(null, env)).isEqualTo("from-env");
        assertThat(HttpSettings.tokenOr("flag", env)).isEqualTo("flag");
        assertThat(HttpSettings.tokenOr(null, Map.of(HttpSettings.TOKEN_ENV, ""))).isNull();
    }

    @Test
    void badValuesAndUnknownHttpKeysAreErrorsNamingTheKey() {
        assertThatThrownBy(() -> HttpSettings.take(props("http.port", "eighty"), Map.of()))
                .hasMessageContaining("http.port must be an integer");
        assertThatThrownBy(() -> HttpSettings.take(props("http.port", "70000"), Map.of()))
                .hasMessageContaining("http.port must be between 0 and 65535");
        assertThatThrownBy(() -> HttpSettings.take(props("http.tokn", "x"), Map.of()))
                .hasMessageContaining("unknown configuration keys [http.tokn]");
    }
}
