package dev.hardmine.runtime;

import dev.hardmine.metrics.HardmineMetrics;
import dev.hardmine.registry.SchemaRegistryClient;
import dev.hardmine.registry.SerdeConfig;
import dev.hardmine.stream.MinerService;
import dev.hardmine.stream.ServiceConfig;
import dev.hardmine.web.HttpSettings;
import dev.hardmine.web.MinerView;
import dev.hardmine.web.NeighborBoard;
import dev.hardmine.web.StatsBoard;
import dev.hardmine.web.WebServer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;

/**
 * One running instance of the mining service, as {@code run}, {@code demo} and {@code bench} start
 * it: the metrics, a registry client, the boards that follow the stats and neighbours topics, the
 * HTTP side that reads them, and the miner. Started in that order and closed in reverse: Kafka
 * Streams first, then the HTTP side, the boards it reads, the registry client they decode with,
 * and the metrics' own tasks.
 *
 * <p>The HTTP side starts before the miner because its address is Kafka Streams'
 * {@code application.server}, where the other instances ask for this one's part of a memory
 * (unless {@code kafka.application.server} says otherwise). The boards wait for the stats and
 * neighbours topics: the miner creates them.
 */
public final class ServiceInstance implements AutoCloseable {
    private final List<AutoCloseable> started = new ArrayList<>();
    private HardmineMetrics metrics;
    private SchemaRegistryClient registry;
    private WebServer web;
    private MinerService miner;

    private ServiceInstance() {
    }

    /**
     * Starts an instance; with {@code http} null it has no HTTP side (nor boards). Whatever was
     * started is closed again when a later part fails to start.
     *
     * @throws java.net.BindException when the HTTP side cannot listen where {@code http} says
     */
    public static ServiceInstance start(ServiceConfig config, HttpSettings http) throws IOException {
        ServiceInstance instance = new ServiceInstance();
        try {
            instance.startAll(config, http);
            return instance;
        } catch (IOException | RuntimeException e) {
            try {
                instance.close();
            } catch (Exception notClosed) {
                e.addSuppressed(notClosed);
            }
            throw e;
        }
    }

    private void startAll(ServiceConfig config, HttpSettings http) throws IOException {
        metrics = started(new HardmineMetrics());
        registry = started(SchemaRegistryClient.create(SerdeConfig.fromMap(MinerService.serdeSettings(config))
                .client()));
        ServiceConfig minerConfig = config;
        if (http != null) {
            StatsBoard board = started(StatsBoard.following(MinerService.adminProperties(config),
                    config.topics().stats(), registry));
            NeighborBoard neighbors = started(NeighborBoard.following(MinerService.adminProperties(config),
                    config.topics().neighbors(), registry));
            web = started(new WebServer(new WebServer.Options(http.bind(), http.port(), http.token(),
                    metrics::scrape), board, neighbors));
            minerConfig = config.withKafkaDefault(StreamsConfig.APPLICATION_SERVER_CONFIG, web.hostPort());
        }
        miner = started(new MinerService(minerConfig, metrics.observer()));
        miner.start();
        metrics.bind(miner);
        if (web != null) {
            HostInfo self = HostInfo.buildFromEndpoint(
                    minerConfig.kafka().get(StreamsConfig.APPLICATION_SERVER_CONFIG));
            web.serve(MinerView.of(miner, self, metrics::consumerLag));
        }
    }

    private <T extends AutoCloseable> T started(T part) {
        started.add(part);
        return part;
    }

    public MinerService miner() {
        return miner;
    }

    /** The miner's configuration, {@code application.server} included. */
    public ServiceConfig config() {
        return miner.config();
    }

    /** A registry client for the service's registry, closed with the instance. */
    public SchemaRegistryClient registry() {
        return registry;
    }

    /** The HTTP side; null for an instance without one. */
    public WebServer web() {
        return web;
    }

    /**
     * Closes every part in reverse order of start; a part that fails to close does not keep the
     * others open, and its exception (the others' suppressed in it) is thrown at the end.
     */
    @Override
    public void close() throws Exception {
        Exception first = null;
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        started.clear();
        if (first != null) {
            throw first;
        }
    }
}
