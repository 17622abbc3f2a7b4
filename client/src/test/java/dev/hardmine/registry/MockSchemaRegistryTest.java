package dev.hardmine.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.UUID;

import dev.hardmine.avro.EmbeddingBatch;
import dev.hardmine.avro.MinedBatch;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class MockSchemaRegistryTest {

    @Test
    void sharesOneRegistryBetweenClientsOfTheSameName() {
        String name = "shared-" + UUID.randomUUID();
        try {
            int id = SchemaRegistryClient.forUrl("mock://" + name).register("t-value", EmbeddingBatch.getClassSchema());

            assertThat(SchemaRegistryClient.forUrl("mock://" + name).getSchemaById(id)).isEqualTo(EmbeddingBatch.getClassSchema());
        } finally {
            MockSchemaRegistry.dropScope(name);
        }
    }

    @Test
    void keepsRegistriesOfDifferentNamesApart() {
        String a = "a-" + UUID.randomUUID();
        String b = "b-" + UUID.randomUUID();
        try {
            MockSchemaRegistry.scope(a).register("t-value", EmbeddingBatch.getClassSchema());

            assertThatThrownBy(() -> MockSchemaRegistry.scope(b).getLatestVersion("t-value"))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40401));
        } finally {
            MockSchemaRegistry.dropScope(a);
            MockSchemaRegistry.dropScope(b);
        }
    }

    @Test
    void startsEmptyAgainAfterItsScopeIsDropped() {
        String name = "dropped-" + UUID.randomUUID();
        int id = MockSchemaRegistry.scope(name).register("t-value", EmbeddingBatch.getClassSchema());

        MockSchemaRegistry.dropScope(name);

        assertThatThrownBy(() -> MockSchemaRegistry.scope(name).getSchemaById(id))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
        MockSchemaRegistry.dropScope(name);
    }

    @Test
    void checksCompatibilityLikeTheServer() throws Exception {
        String name = "compat-" + UUID.randomUUID();
        try {
            SchemaRegistryClient client = MockSchemaRegistry.scope(name);
            client.register("t-value", EmbeddingBatch.getClassSchema());
            Schema addsFieldWithoutDefault = new Schema.Parser().parse(EmbeddingBatch.getClassSchema().toString()
                    .replace("\"fields\":[", "\"fields\":[{\"name\":\"extra\",\"type\":\"int\"},"));

            assertThat(client.testCompatibility("t-value", addsFieldWithoutDefault)).isFalse();
            assertThat(client.testCompatibility("t-value", TestRecords.withStringField(EmbeddingBatch.getClassSchema(), "x", ""))).isTrue();
            assertThatThrownBy(() -> client.register("t-value", MinedBatch.getClassSchema()))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                        assertThat(e.httpStatus()).isEqualTo(409);
                        assertThat(e.errorCode()).isEqualTo(409);
                    });
        } finally {
            MockSchemaRegistry.dropScope(name);
        }
    }
}
