package dev.hardmine.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class SerdeConfigTest {

    @Test
    void defaultsToAutoRegistrationAndTopicNameStrategy() {
        SerdeConfig config = SerdeConfig.fromMap(Map.of("schema.registry.url", "http://127.0.0.1:8081"));

        assertThat(config.autoRegisterSchemas()).isTrue();
        assertThat(config.useLatestVersion()).isFalse();
        assertThat(config.valueSubjectNameStrategy()).isEqualTo(SubjectNameStrategy.TOPIC_NAME);
        assertThat(config.keySubjectNameStrategy()).isEqualTo(SubjectNameStrategy.TOPIC_NAME);
        assertThat(config.client().credentials()).isEqualTo(RegistryCredentials.none());
        assertThat(config.client().maxRetries()).isEqualTo(3);
        assertThat(config.client().latestCacheTtl().isNegative()).isTrue();
    }

    @Test
    void readsConfluentsKeysWithStringOrTypedValues() {
        SerdeConfig config = SerdeConfig.fromMap(Map.of(
                "schema.registry.url", "http://a:8081, http://b:8081/",
                "auto.register.schemas", "false",
                "use.latest.version", true,
                "value.subject.name.strategy", "io.confluent.kafka.serializers.subject.RecordNameStrategy",
                "key.subject.name.strategy", "TopicRecordNameStrategy",
                "http.read.timeout.ms", 1500,
                "max.retries", "5",
                "retries.wait.ms", "10",
                "retries.max.wait.ms", "100",
                "latest.cache.ttl.sec", "60"));

        assertThat(config.client().urls()).containsExactly("http://a:8081", "http://b:8081");
        assertThat(config.autoRegisterSchemas()).isFalse();
        assertThat(config.useLatestVersion()).isTrue();
        assertThat(config.valueSubjectNameStrategy()).isEqualTo(SubjectNameStrategy.RECORD_NAME);
        assertThat(config.keySubjectNameStrategy()).isEqualTo(SubjectNameStrategy.TOPIC_RECORD_NAME);
        assertThat(config.client().requestTimeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(config.client().maxRetries()).isEqualTo(5);
        assertThat(config.client().retryBackoff()).isEqualTo(Duration.ofMillis(10));
        assertThat(config.client().latestCacheTtl()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void readsBasicCredentialsFromUserInfoKeepingColonsInThePassword() {
        SerdeConfig config = SerdeConfig.fromMap(Map.of(
                "schema.registry.url", "https://registry:8081",
                "basic.auth.user.info", "alice:s3:cret"));

        assertThat(config.client().credentials()).isEqualTo(RegistryCredentials.basic("alice", "s3:cret"));
        assertThat(config.client().credentials().toString()).doesNotContain("s3:cret");
    }

    @Test
    void acceptsClientKeysWithTheSchemaRegistryPrefix() {
        SerdeConfig config = SerdeConfig.fromMap(Map.of(
                "schema.registry.url", "https://registry:8081",
                "schema.registry.basic.auth.user.info", "bob:pw"));

        assertThat(config.client().credentials()).isEqualTo(RegistryCredentials.basic("bob", "pw"));
    }

    @Test
    void takesBasicCredentialsFromTheUrlWhenTheSourceIsUrl() {
        SerdeConfig config = SerdeConfig.fromMap(Map.of(
                "schema.registry.url", "https://carol:pw@registry:8081",
                "basic.auth.credentials.source", "URL"));

        assertThat(config.client().credentials()).isEqualTo(RegistryCredentials.basic("carol", "pw"));
        assertThat(config.client().urls()).containsExactly("https://registry:8081");
    }

    @Test
    void readsABearerToken() {
        SerdeConfig config = SerdeConfig.fromMap(Map.of(
                "schema.registry.url", "https://registry:8081",
                "bearer.auth.credentials.source", "STATIC_TOKEN",
                "bearer.auth.token", "tok-123"));

        assertThat(config.client().credentials().authorizationHeader()).contains("Bearer tok-123");
    }

    @Test
    void rejectsBasicAndBearerCredentialsTogether() {
        assertThatThrownBy(() -> SerdeConfig.fromMap(Map.of(
                "schema.registry.url", "https://registry:8081",
                "basic.auth.user.info", "a:b",
                "bearer.auth.token", "t")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not both");
    }

    @Test
    void requiresARegistryUrl() {
        assertThatThrownBy(() -> SerdeConfig.fromMap(Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("schema.registry.url");
    }

    @Test
    void rejectsAUrlThatIsNeitherHttpNorMock() {
        assertThatThrownBy(() -> SerdeConfig.fromMap(Map.of("schema.registry.url", "ftp://registry")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("mock://NAME");
    }

    @Test
    void namesTheKeyOfAValueThatIsNotABoolean() {
        assertThatThrownBy(() -> SerdeConfig.fromMap(Map.of("schema.registry.url", "mock://x", "auto.register.schemas", "yes")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("auto.register.schemas");
    }

    @Test
    void acceptsAListOfUrlsAsKafkaPassesListTypes() {
        SerdeConfig config = SerdeConfig.fromMap(Map.of("schema.registry.url", List.of("http://a:1", "http://b:2")));

        assertThat(config.client().urls()).containsExactly("http://a:1", "http://b:2");
    }
}
