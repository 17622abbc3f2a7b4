package dev.hardmine.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class HttpSettingsTest {

    @Test
    void defaultsAreLoopbackPort8080AndNoToken() {
        assertThat(HttpSettings.from(Map.of())).isEqualTo(new HttpSettings("127.0.0.1", 8080, null));
    }

    @Test
    void theHttpKeysGiveTheSettingsAndOtherKeysAreLeftAlone() {
        Map<String, String> settings = Map.of("http.port", "9000", "http.bind", "0.0.0.0", "http.token", "t",
                "application.id", "a");
        assertThat(HttpSettings.from(settings)).isEqualTo(new HttpSettings("0.0.0.0", 9000, "t"));
        assertThat(settings).hasSize(4);
    }

    @Test
    void itsTextHidesTheToken() {
        assertThat(new HttpSettings("127.0.0.1", 8080, "token-7f3a").toString())
                .contains("port=8080", "token=***").doesNotContain("token-7f3a");
        assertThat(new HttpSettings("127.0.0.1", 8080, null).toString()).contains("token=none");
    }

    @Test
    void badValuesAreErrorsNamingTheKey() {
        assertThatThrownBy(() -> HttpSettings.from(Map.of("http.port", "eighty")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("http.port");
        assertThatThrownBy(() -> HttpSettings.from(Map.of("http.port", "70000")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("http.port")
                .hasMessageContaining("http.port must be between 0 and 65535, got 70000");
    }

    @Test
    void anEmptyTokenMeansNone() {
        assertThat(new HttpSettings("127.0.0.1", 0, "").token()).isNull();
    }
}
