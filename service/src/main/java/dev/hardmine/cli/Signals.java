package dev.hardmine.cli;

import sun.misc.Signal;

/**
 * SIGTERM and SIGINT as a request for an orderly stop: the command stops its parts itself and
 * exits 0. (Left to the JVM's default, SIGTERM ends the process with 143 even when shutdown
 * hooks run cleanly.)
 */
final class Signals {
    private Signals() {
    }

    static void onTermination(Runnable stop) {
        Signal.handle(new Signal("TERM"), s -> stop.run());
        Signal.handle(new Signal("INT"), s -> stop.run());
    }
}
