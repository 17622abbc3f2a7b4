# hardmine's service image: `java -jar hardmine.jar run` with the properties file of deploy/.
# Build stage: the shaded jar, built by the same Maven command as the README's quick start.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY pom.xml .
COPY client/pom.xml client/
COPY service/pom.xml service/
RUN mvn -B -q dependency:go-offline || true
COPY schemas schemas
COPY client/src/main client/src/main
COPY service/src/main service/src/main
RUN mvn -B -q package -DskipTests -Dmaven.test.skip=true

# Runtime: a JDK 17, the jar, and curl for the healthcheck. The JDK rather than the JRE image, which
# carries a subset of the JDK's modules: the launcher runs the service with the Vector API's incubator
# module (jdk.incubator.vector) when the runtime has it, and the scans are slower without it. Next to
# the jar (about 250 MB, mostly ND4J's native libraries) the JDK's extra size is small.
FROM eclipse-temurin:17-jdk
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /var/lib/hardmine hardmine
COPY --from=build /src/target/hardmine.jar /opt/hardmine/hardmine.jar
COPY deploy/hardmine.properties /etc/hardmine/hardmine.properties
# ND4J unpacks its native libraries under the user's home (~/.javacpp/cache); Kafka Streams keeps
# its state under /var/lib/hardmine/streams.
USER hardmine
WORKDIR /var/lib/hardmine
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["java", "-jar", "/opt/hardmine/hardmine.jar"]
CMD ["run", "--config", "/etc/hardmine/hardmine.properties", "--http-bind", "0.0.0.0"]
