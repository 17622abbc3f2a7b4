package dev.hardmine;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Which package may use which (docs/DESIGN.md, "Architecture"). The client module (avro, retry,
 * registry, client, with the topics' names and keys in {@code client.Topics}) stands alone, so
 * trainers can depend on it without the service; the mining core and the schema-driven JSON writer
 * know nothing else of hardmine; the stream knows the core and the client's contract but none of
 * its users; the command line is the only package that sees them all.
 */
@AnalyzeClasses(packages = "dev.hardmine",
        importOptions = {ImportOption.DoNotIncludeTests.class, LayeringTest.NoTestJars.class})
class LayeringTest {

    @ArchTest
    static final ArchRule layers = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer("Retry").definedBy("dev.hardmine.retry..")
            .layer("Avro").definedBy("dev.hardmine.avro..")
            .layer("Registry").definedBy("dev.hardmine.registry..")
            .layer("Client").definedBy("dev.hardmine.client..")
            .layer("Json").definedBy("dev.hardmine.json..")
            .layer("Mining").definedBy("dev.hardmine.mining..")
            .layer("Stream").definedBy("dev.hardmine.stream..")
            .layer("Metrics").definedBy("dev.hardmine.metrics..")
            .layer("Web").definedBy("dev.hardmine.web..")
            .layer("Replay").definedBy("dev.hardmine.replay..")
            .layer("Runtime").definedBy("dev.hardmine.runtime..")
            .layer("Demo").definedBy("dev.hardmine.demo..")
            .layer("Bench").definedBy("dev.hardmine.bench..")
            .layer("Cli").definedBy("dev.hardmine.cli..")
            .whereLayer("Retry").mayNotAccessAnyLayer()
            .whereLayer("Avro").mayNotAccessAnyLayer()
            .whereLayer("Registry").mayOnlyAccessLayers("Retry")
            .whereLayer("Json").mayNotAccessAnyLayer()
            .whereLayer("Mining").mayNotAccessAnyLayer()
            .whereLayer("Client").mayOnlyAccessLayers("Avro", "Registry", "Retry")
            .whereLayer("Stream").mayOnlyAccessLayers("Avro", "Registry", "Retry", "Client", "Mining")
            .whereLayer("Metrics").mayOnlyAccessLayers("Avro", "Client", "Stream")
            .whereLayer("Web").mayOnlyAccessLayers("Avro", "Registry", "Retry", "Client", "Stream", "Json")
            .whereLayer("Replay").mayOnlyAccessLayers("Avro", "Registry", "Client", "Mining", "Stream", "Json")
            .whereLayer("Runtime").mayOnlyAccessLayers("Registry", "Client", "Stream", "Metrics", "Web")
            .whereLayer("Demo").mayOnlyAccessLayers("Avro", "Registry", "Client", "Mining", "Stream",
                    "Web", "Replay", "Runtime")
            .whereLayer("Bench").mayOnlyAccessLayers("Avro", "Registry", "Client", "Mining", "Stream", "Runtime", "Demo")
            .whereLayer("Cli").mayNotBeAccessedByAnyLayer();

    /** What a trainer gets with the client module: Kafka's client, Avro, Jackson; nothing of the service. */
    @ArchTest
    static final ArchRule clientSideNeedsNoServiceLibrary = noClasses()
            .that().resideInAnyPackage("dev.hardmine.client..", "dev.hardmine.registry..", "dev.hardmine.retry..",
                    "dev.hardmine.avro..")
            .should().dependOnClassesThat().resideInAnyPackage(
                    "org.nd4j..", "org.bytedeco..", "org.apache.kafka.streams..", "kafka..", "org.apache.kafka.server..",
                    "io.micrometer..", "picocli..", "org.rocksdb..");

    /** The client module's test fixtures reach this module as a jar under {@code mvn verify}. */
    static final class NoTestJars implements ImportOption {
        @Override
        public boolean includes(Location location) {
            return !location.contains("-tests.jar");
        }
    }
}
