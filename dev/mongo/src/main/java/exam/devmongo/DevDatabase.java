package exam.devmongo;

import java.util.ArrayList;
import java.util.List;

import org.h2.mvstore.FileStore;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.AbstractSynchronizedMongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;

/**
 * Upstream's H2Database with the same map names (so the file layout is upstream's), but
 * every index, the unique ones included, is an {@link OrderedIndex} in memory. An index
 * that starts empty is filled from the data by the collection (upstream's addIndex), which
 * is how indexes come back after a restart.
 */
final class DevDatabase extends AbstractSynchronizedMongoDatabase<Object> {

    static final String DATABASES_PREFIX = "databases.";
    private static final String META_PREFIX = "meta.";

    private static final Logger log = LoggerFactory.getLogger(DevDatabase.class);

    private final MVStore store;
    /** Collections opened from the file, whose indexes are filled once all are known. */
    private List<DevCollection> opening = new ArrayList<>();

    DevDatabase(String databaseName, MVStore store, CursorRegistry cursorRegistry) {
        super(databaseName, cursorRegistry);
        this.store = store;
        long started = System.nanoTime();
        initializeNamespacesAndIndexes();
        long documents = 0;
        for (DevCollection collection : opening) {
            documents += collection.buildDeferredIndexes();
        }
        opening = null;
        if (documents > 0) {
            log.info("opened {}: {} documents indexed in {} ms", databaseName, documents,
                (System.nanoTime() - started) / 1_000_000);
        }
    }

    @Override
    protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                    boolean sparse) {
        return new OrderedIndex(indexName, keys, sparse, true);
    }

    @Override
    protected Index<Object> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                       boolean sparse) {
        return new OrderedIndex(indexName, keys, sparse, false);
    }

    @Override
    protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
        String fullName = getFullCollectionNamespace(collectionName);
        MVMap<Object, Document> dataMap = store.openMap(DATABASES_PREFIX + fullName);
        MVMap<String, Object> metaMap = store.openMap(META_PREFIX + fullName);
        DevCollection collection = new DevCollection(this, collectionName, options, dataMap, metaMap, cursorRegistry);
        if (opening != null) {
            collection.deferIndexBuilds();
            opening.add(collection);
        }
        return collection;
    }

    @Override
    public void drop(Oplog oplog) {
        super.drop(oplog);
        for (String name : store.getMapNames()) {
            if (name.startsWith(databaseName + ".") || name.startsWith(DATABASES_PREFIX + databaseName + ".")
                || name.startsWith(META_PREFIX + databaseName + ".")) {
                store.removeMap(name);
            }
        }
    }

    @Override
    public void dropCollection(String collectionName, Oplog oplog) {
        super.dropCollection(collectionName, oplog);
        String fullName = getFullCollectionNamespace(collectionName);
        store.removeMap(DATABASES_PREFIX + fullName);
        store.removeMap(META_PREFIX + fullName);
    }

    @Override
    public void moveCollection(MongoDatabase oldDatabase, MongoCollection<?> collection, String newCollectionName) {
        super.moveCollection(oldDatabase, collection, newCollectionName);
        String oldName = collection.getFullName();
        String newName = getFullCollectionNamespace(newCollectionName);
        store.renameMap(store.openMap(DATABASES_PREFIX + oldName), DATABASES_PREFIX + newName);
        store.renameMap(store.openMap(META_PREFIX + oldName), META_PREFIX + newName);
    }

    @Override
    protected long getStorageSize() {
        FileStore<?> fileStore = store.getFileStore();
        return fileStore == null ? 0 : fileStore.size();
    }

    @Override
    protected long getFileSize() {
        return getStorageSize();
    }
}
