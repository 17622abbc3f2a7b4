package dev.hardmine.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class Utf8KeySerdeTest {

    private final Utf8KeySerde serde = new Utf8KeySerde();

    @Test
    void writesKeysAsPlainUtf8WithoutAHeader() {
        assertThat(serde.serializer().serialize("t", "job-é")).containsExactly('j', 'o', 'b', '-', 0xc3, 0xa9);
    }

    @Test
    void readsBackWhatItWrote() {
        byte[] bytes = serde.serializer().serialize("t", "训练-job");

        assertThat(serde.deserializer().deserialize("t", bytes)).isEqualTo("训练-job");
    }

    @Test
    void rejectsInvalidUtf8InsteadOfReplacingIt() {
        byte[] invalid = {'j', (byte) 0xc3, 'b'};

        assertThatThrownBy(() -> serde.deserializer().deserialize("t", invalid))
                .isInstanceOfSatisfying(MalformedKeyException.class, e -> assertThat(e.reason()).isEqualTo("bad-key-encoding"));
        assertThat(new String(invalid, StandardCharsets.UTF_8)).contains("\uFFFD");
    }

    @Test
    void keepsNullKeysNull() {
        assertThat(serde.serializer().serialize("t", null)).isNull();
        assertThat(serde.deserializer().deserialize("t", null)).isNull();
    }
}
