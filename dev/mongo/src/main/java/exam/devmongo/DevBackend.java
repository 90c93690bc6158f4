package exam.devmongo;

import java.util.List;

import org.h2.mvstore.MVStore;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * H2 backend whose databases index for real ({@link DevDatabase}) and which commits the
 * store before a command's answer leaves, so an acknowledged write survives a SIGKILL of
 * this process. Commits are group commits: a commit stores everything changed so far, so
 * writers that arrive while one runs find nothing left to store. (A commit writes to the
 * file; it does not fsync, so a power cut may still lose the last writes. That is enough
 * for a development server; production runs MongoDB with its journal.)
 *
 * Only the collections' data maps are stored; indexes live in memory and are rebuilt
 * from the data at start, so a crash can never leave an index that disagrees with it.
 */
final class DevBackend extends H2Backend {

    /** pymongo 4.20 refuses servers older than MongoDB 4.2; upstream reports wire 8 as "5.0". */
    private static final MongoVersion MONGO_4_4 = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
            return 9;
        }
    };

    private final boolean commitEveryWrite;

    /** @param commitEveryWrite false only to measure what durability costs (upstream's behaviour) */
    DevBackend(MVStore store, boolean commitEveryWrite) {
        super(store);
        this.commitEveryWrite = commitEveryWrite;
        version(MONGO_4_4);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        // Called from H2Backend's constructor too: use only what the superclass has set.
        return new DevDatabase(databaseName, getMvStore(), getCursorRegistry());
    }

    @Override
    public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
        try {
            return super.handleCommand(channel, databaseName, command, query);
        } finally {
            MVStore store = getMvStore();
            if (commitEveryWrite && store.hasUnsavedChanges()) {
                store.commit();
            }
        }
    }
}
