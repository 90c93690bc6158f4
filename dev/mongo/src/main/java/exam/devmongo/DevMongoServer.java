package exam.devmongo;

import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;

import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import de.bwaldvogel.mongo.MongoServer;

/**
 * The local and test MongoDB-wire server: mongo-java-server (MIT, Maven Central) with its
 * H2 MVStore backend, and three things the project needs that it lacks upstream:
 *
 * <ul>
 * <li>indexes that are used: every index, unique or not, is an ordered in-memory index
 * rebuilt from the data at start ({@link OrderedIndex}), and queries are planned over them
 * ({@link QueryPlanner}): equality and {@code $in} prefixes, a range on the next key, a
 * sort read off the index, and top-level {@code $or} as a union; a {@code count} of
 * string equalities on an index's leading keys is the number of its entries there, no
 * document read ({@link DevCollection#count}). Upstream answers only a query whose keys
 * equal a unique index's keys, scans for everything else, and counts by reading;</li>
 * <li>every write is committed to the file before it is acknowledged ({@link DevBackend}):
 * upstream commits in the background about once a second and a SIGKILL loses what came
 * after the last commit;</li>
 * <li>it reports MongoDB 4.4 (wire version 9), the oldest pymongo 4.20 accepts.</li>
 * </ul>
 *
 * Single-document writes are atomic because each collection serialises its operations
 * (upstream's synchronized collection); different collections proceed in parallel.
 *
 * <pre>java -cp 'var/build/devmongo/*:var/build/devmongo/lib/*' exam.devmongo.DevMongoServer \
 *     --listen 127.0.0.1:27017 --file var/mongo/data.mv [--commit background]</pre>
 * ({@code --commit background} is upstream's behaviour, for measuring what the commit costs.)
 */
public final class DevMongoServer {

    private static final Logger log = LoggerFactory.getLogger(DevMongoServer.class);

    private DevMongoServer() {
    }

    public static void main(String[] args) throws InterruptedException {
        Options options = Options.parse(args);
        MVStore store = new MVStore.Builder()
            .fileName(options.file)
            .cacheSize(options.cacheMb)
            .open();
        // Space of chunks no longer in use may be reused after this long. H2's default (45 s)
        // guards against disks that reorder writes in a power cut; we guard against a killed
        // process, for which the data is safe once written to the OS. At a commit per write
        // the default lets the file grow by tens of megabytes a second under load. But the
        // window is also what lets a reader finish walking a map whose old pages a writer
        // has just replaced: at 1 s a scan on a busy machine (load 8 on 2 cores) failed with
        // "Chunk 589 not found" (h2database#4383). 10 s keeps both in bounds.
        store.setRetentionTime(options.retentionMs);
        DevBackend backend = new DevBackend(store, options.commitEveryWrite);
        MongoServer server = new MongoServer(backend);
        server.bind(new InetSocketAddress(options.host, options.port), 1, options.workers);
        log.info("listening on {}:{}, data in {}{}", options.host, options.port, options.file,
            options.commitEveryWrite ? "" : " (commits in the background only: acknowledged writes may be lost)");

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping");
            server.shutdownNow();
            backend.close();  // commits and closes the file
            stopped.countDown();
        }, "shutdown"));
        stopped.await();
    }

    private record Options(String host, int port, String file, int workers, int cacheMb, boolean commitEveryWrite,
                           int retentionMs) {

        static Options parse(String[] args) {
            String listen = "127.0.0.1:27017";
            String file = null;
            int workers = 8;
            int cacheMb = 256;
            boolean commitEveryWrite = true;
            int retentionMs = 10_000;
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--listen" -> listen = value;
                    case "--file" -> file = value;
                    case "--workers" -> workers = Integer.parseInt(value);
                    case "--cache-mb" -> cacheMb = Integer.parseInt(value);
                    case "--commit" -> commitEveryWrite = !"background".equals(value);
                    case "--retention-ms" -> retentionMs = Integer.parseInt(value);
                    default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; usage: --listen HOST:PORT --file PATH [--workers N] [--cache-mb N]"
                        + " [--commit write|background] [--retention-ms N]");
                }
                i++;
            }
            if (file == null) {
                throw new IllegalArgumentException("--file PATH is required");
            }
            int colon = listen.lastIndexOf(':');
            return new Options(listen.substring(0, colon), Integer.parseInt(listen.substring(colon + 1)),
                file, workers, cacheMb, commitEveryWrite, retentionMs);
        }
    }
}
