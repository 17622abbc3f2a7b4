/**
 * Confluent Schema Registry compatibility: the wire format, a registry client, Avro serdes, and an
 * embedded registry server.
 *
 * <ul>
 *   <li>{@link dev.hardmine.registry.SchemaRegistryClient} — the client interface; {@code http(s)://}
 *       URLs reach a real registry over REST, {@code mock://NAME} an in-process one
 *       ({@link dev.hardmine.registry.MockSchemaRegistry}).</li>
 *   <li>{@link dev.hardmine.registry.AvroSerde} (with {@link dev.hardmine.registry.AvroSerializer} and
 *       {@link dev.hardmine.registry.AvroDeserializer}) — Kafka serdes for Avro specific records in
 *       Confluent's wire format: byte 0 is the magic byte 0, bytes 1–4 the schema id (big-endian),
 *       then the Avro binary encoding. {@link dev.hardmine.registry.Utf8KeySerde} — plain UTF-8 keys.</li>
 *   <li>{@link dev.hardmine.registry.WireFormatException} and its subclasses — why a payload could not
 *       be decoded, each with a stable {@link dev.hardmine.registry.WireFormatException#reason()}.</li>
 *   <li>{@link dev.hardmine.registry.EmbeddedSchemaRegistry} — the subset of Confluent's REST API that
 *       Confluent-compatible clients use, persisted in a compacted {@code _schemas} topic.</li>
 * </ul>
 *
 * Everything under {@code dev.hardmine.registry.internals} may change without notice.
 */
package dev.hardmine.registry;
