package dev.hardmine.mining;

/** The JVM's {@link MemoryWarmer}, as tests outside its package see it. */
public final class SharedWarmer {
    private SharedWarmer() {
    }

    /** Whether the shared warmer keeps some job's data warm now. */
    public static boolean keeping() {
        return MemoryWarmer.shared().keeping();
    }

    /** Stops it, as the next step of any job would. */
    public static void stop() {
        MemoryWarmer.shared().stop();
    }
}
