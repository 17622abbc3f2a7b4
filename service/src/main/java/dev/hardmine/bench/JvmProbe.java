package dev.hardmine.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.management.ListenerNotFoundException;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.bytedeco.javacpp.Pointer;
import org.HdrHistogram.Histogram;

/**
 * The JVM's side of a benchmark phase: every garbage-collection pause (from the collectors'
 * notifications, so none is missed between two reads), the old generation's occupancy right after
 * each collection (the figure that shows a leak: it only grows when live data grows), the heap,
 * and memory outside the heap: direct buffers and the process's resident set, which holds ND4J's
 * native matrices (ND4J does not account for them where the JVM can see).
 */
final class JvmProbe implements AutoCloseable {
    /** What the JVM did during one phase. */
    record Snapshot(long gcPauses, double gcPauseTotalMs, double gcPauseMaxMs, double gcPauseP99Ms,
                    double oldGenAfterGcMb, double heapUsedMb, double heapCommittedMb, double directMb,
                    double residentMb) {
    }

    private final List<Registration> registrations = new ArrayList<>();
    private Histogram pauses = newHistogram();
    private double pauseTotalMs;
    private long oldGenAfterGc = -1;

    private record Registration(NotificationEmitter emitter, NotificationListener listener) {
    }

    JvmProbe() {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (gc instanceof NotificationEmitter emitter) {
                NotificationListener listener = (n, handback) -> {
                    if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
                        onCollection(GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData()));
                    }
                };
                emitter.addNotificationListener(listener, null, null);
                registrations.add(new Registration(emitter, listener));
            }
        }
    }

    private static Histogram newHistogram() {
        return new Histogram(3_600_000_000L, 3); // microseconds, up to an hour
    }

    private synchronized void onCollection(GarbageCollectionNotificationInfo info) {
        // G1's concurrent cycle is reported too on newer JDKs; it is not a pause.
        if (info.getGcName().contains("Concurrent")) {
            return;
        }
        long micros = Math.max(0, info.getGcInfo().getDuration()) * 1000;
        pauses.recordValue(Math.min(micros, pauses.getHighestTrackableValue()));
        pauseTotalMs += micros / 1000.0;
        for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
            String pool = e.getKey();
            if (pool.contains("Old Gen") || pool.contains("Tenured")) {
                oldGenAfterGc = e.getValue().getUsed();
            }
        }
    }

    /** The phase's figures since the last call; pauses and their sum start again from zero. */
    synchronized Snapshot take() {
        Histogram h = pauses;
        pauses = newHistogram();
        double total = pauseTotalMs;
        pauseTotalMs = 0;
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        double direct = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct = pool.getMemoryUsed();
            }
        }
        return new Snapshot(h.getTotalCount(), total, h.getMaxValue() / 1000.0,
                h.getValueAtPercentile(99) / 1000.0, oldGenAfterGc < 0 ? Double.NaN : mb(oldGenAfterGc),
                mb(heap.getUsed()), mb(heap.getCommitted()), mb(direct),
                mb(Pointer.physicalBytes()));
    }

    private static double mb(double bytes) {
        return bytes / (1024.0 * 1024.0);
    }

    @Override
    public void close() {
        for (Registration r : registrations) {
            try {
                r.emitter().removeNotificationListener(r.listener());
            } catch (ListenerNotFoundException e) {
                // already gone
            }
        }
    }
}
