package dev.hardmine.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A certificate authority of the test's own and a server certificate it signed for 127.0.0.1 and
 * localhost, made with the JDK's {@code keytool} (a child process) in a directory, valid for two
 * days. Every store is PKCS12 with one password, new for each set, so that a test can look for it
 * where it must not appear.
 *
 * @param password        the password of every store (and of the server's key)
 * @param caPem           the CA's certificate, PEM (for librdkafka's {@code ssl.ca.location})
 * @param truststore      a trust store holding the CA's certificate alone
 * @param serverKeystore  the server's key and its chain (server, CA)
 */
public record TestCertificates(String password, Path caPem, Path truststore, Path serverKeystore) {
    public static final String STORE_TYPE = "PKCS12";
    private static final String VALIDITY_DAYS = "2";

    /** Makes the CA, the server certificate and the stores in {@code dir}: eight keytool runs, a few seconds. */
    public static TestCertificates generate(Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        String password = "store-" + UUID.randomUUID();
        Path ca = dir.resolve("ca.p12");
        Path caPem = dir.resolve("ca.pem");
        Path server = dir.resolve("server.p12");
        Path csr = dir.resolve("server.csr");
        Path serverPem = dir.resolve("server.pem");
        Path truststore = dir.resolve("truststore.p12");
        keytool(dir, password, "-genkeypair", "-alias", "ca", "-dname", "CN=hardmine test CA", "-keyalg", "EC",
                "-groupname", "secp256r1", "-ext", "bc:c", "-keystore", ca.toString());
        keytool(dir, password, "-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-file", caPem.toString());
        keytool(dir, password, "-genkeypair", "-alias", "server", "-dname", "CN=127.0.0.1", "-keyalg", "EC",
                "-groupname", "secp256r1", "-keystore", server.toString());
        keytool(dir, password, "-certreq", "-alias", "server", "-keystore", server.toString(), "-file", csr.toString());
        keytool(dir, password, "-gencert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-infile", csr.toString(),
                "-outfile", serverPem.toString(), "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-ext", "KU=digitalSignature", "-ext", "EKU=serverAuth");
        keytool(dir, password, "-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(), "-keystore", server.toString());
        keytool(dir, password, "-importcert", "-alias", "server", "-file", serverPem.toString(), "-keystore", server.toString());
        keytool(dir, password, "-importcert", "-noprompt", "-alias", "ca", "-file", caPem.toString(),
                "-keystore", truststore.toString());
        return new TestCertificates(password, caPem, truststore, server);
    }

    /** An SSL context that presents the server certificate (for a JDK {@code HttpsServer}). */
    public SSLContext serverContext() throws IOException, GeneralSecurityException {
        KeyStore store = KeyStore.getInstance(STORE_TYPE);
        try (InputStream in = Files.newInputStream(serverKeystore)) {
            store.load(in, password.toCharArray());
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password.toCharArray());
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, null);
        return context;
    }

    private static void keytool(Path dir, String password, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("-storetype", STORE_TYPE, "-storepass", password));
        if (args[0].equals("-genkeypair") || args[0].equals("-gencert")) {
            command.addAll(List.of("-validity", VALIDITY_DAYS));
        }
        if (args[0].equals("-genkeypair")) {
            command.addAll(List.of("-keypass", password));
        }
        Path log = dir.resolve("keytool.log");
        Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException("keytool " + args[0] + " did not finish within 60 s");
        }
        if (process.exitValue() != 0) {
            throw new IOException("keytool " + String.join(" ", args) + " failed (" + process.exitValue() + "): "
                    + Files.readString(log, StandardCharsets.UTF_8));
        }
    }
}
