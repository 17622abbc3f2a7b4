package dev.hardmine.mining;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The mining core is pure Java + ND4J (docs/DESIGN.md, "Architecture"): it knows nothing of Kafka, Avro, HTTP or the
 * rest of hardmine, so the same code serves the stream, replay, the CLI and tests.
 */
@AnalyzeClasses(packages = "dev.hardmine.mining", importOptions = ImportOption.DoNotIncludeTests.class)
class MiningCoreArchitectureTest {

    @ArchTest
    static final ArchRule miningCoreDependsOnNoTransportOrFormat = noClasses()
            .that().resideInAPackage("dev.hardmine.mining..")
            .should().dependOnClassesThat().resideInAnyPackage(
                    "org.apache.kafka..", "org.apache.avro..", "dev.hardmine.avro..",
                    "com.sun.net.httpserver..", "java.net.http..");

    @ArchTest
    static final ArchRule miningCoreDependsOnNoOtherHardminePackage = noClasses()
            .that().resideInAPackage("dev.hardmine.mining..")
            .should().dependOnClassesThat(resideInAPackage("dev.hardmine..")
                    .and(not(resideInAPackage("dev.hardmine.mining.."))));
}
