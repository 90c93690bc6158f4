package exam.devmongo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicBoolean;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.DuplicateKeyError;

/**
 * A B-tree-like index in memory: entries (key values..., position) in MongoDB's order
 * (BSON type order, then value; per key ascending or descending), the position being the
 * document's {@code _id} (the H2 collection's key). Unique indexes refuse a second
 * position under the same key values. An array value gives one entry per element and
 * marks the index multikey, which stops it from being used for sorting.
 *
 * Missing fields are indexed as null, as MongoDB does. {@code partialFilterExpression} is
 * not supported (as upstream): the services do not use partial indexes, and every
 * document is indexed whatever the expression says.
 */
final class OrderedIndex extends Index<Object> {

    /** Bounds that sort before or after every value, in index order. */
    enum Bound { FIRST, LAST }

    record Entry(Object[] values, Object position) {
    }

    private static final Comparator<Object> VALUES = ValueComparator.ascWithoutListHandling();
    private static final String ID = "_id";

    private final boolean unique;
    private final boolean[] ascending;
    private final NavigableSet<Entry> entries;
    private final AtomicBoolean multikey = new AtomicBoolean();

    OrderedIndex(String name, List<IndexKey> keys, boolean sparse, boolean unique) {
        super(name, keys, sparse);
        this.unique = unique;
        this.ascending = new boolean[keys.size()];
        for (int i = 0; i < ascending.length; i++) {
            ascending[i] = keys.get(i).isAscending();
        }
        this.entries = new ConcurrentSkipListSet<>(this::compare);
    }

    // -- order --------------------------------------------------------------------------------------
    int compare(Entry a, Entry b) {
        int c = compareValues(a.values, b.values, 0, a.values.length);
        return c != 0 ? c : compareValue(a.position, b.position, true);
    }

    /** Compares key values from index `from` (exclusive `to`); positions are not looked at. */
    int compareValues(Object[] a, Object[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            int c = compareValue(a[i], b[i], ascending[i]);
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private static int compareValue(Object a, Object b, boolean ascending) {
        if (a == b) {
            return 0;
        }
        if (a instanceof Bound || b instanceof Bound) {  // bounds are in index order already
            return a == Bound.FIRST || b == Bound.LAST ? -1 : 1;
        }
        int c = VALUES.compare(a, b);
        return ascending ? c : -c;
    }

    // -- keys of a document ----------------------------------------------------------------------
    /** Every tuple of key values the document is indexed under; empty if sparse and absent. */
    List<Object[]> keyTuples(Document document) {
        List<Object[]> tuples = new ArrayList<>();
        tuples.add(new Object[ascending.length]);
        boolean any = false;
        List<String> keys = keys();
        for (int i = 0; i < keys.size(); i++) {
            Object value = Utils.getSubdocumentValueCollectionAware(document, keys.get(i));
            any |= !(value instanceof Missing);
            List<Object> choices = new ArrayList<>();
            if (value instanceof Collection<?> values) {
                multikey.set(true);
                for (Object element : values) {
                    choices.add(Values.normalize(element));
                }
                if (choices.isEmpty()) {
                    choices.add(null);
                }
            } else {
                choices.add(Values.normalize(value));
            }
            tuples = expand(tuples, i, choices);
        }
        return isSparse() && !any ? List.of() : tuples;
    }

    private static List<Object[]> expand(List<Object[]> tuples, int index, List<Object> choices) {
        if (choices.size() == 1) {
            for (Object[] tuple : tuples) {
                tuple[index] = choices.get(0);
            }
            return tuples;
        }
        List<Object[]> expanded = new ArrayList<>(tuples.size() * choices.size());
        for (Object[] tuple : tuples) {
            for (Object choice : choices) {
                Object[] copy = tuple.clone();
                copy[index] = choice;
                expanded.add(copy);
            }
        }
        return expanded;
    }

    static Object positionOf(Document document) {
        return Missing.ofNullable(Utils.getSubdocumentValue(document, ID));
    }

    // -- reading ------------------------------------------------------------------------------------
    /** Entries whose first `prefix.length` values equal `prefix` and whose next value lies
     * between `low` and `high` (index order, inclusive; Bound.FIRST/LAST for open ends). */
    NavigableSet<Entry> range(Object[] prefix, Object low, Object high) {
        return entries.subSet(bound(prefix, low, Bound.FIRST), true, bound(prefix, high, Bound.LAST), true);
    }

    private Entry bound(Object[] prefix, Object next, Bound rest) {
        Object[] values = new Object[ascending.length];
        System.arraycopy(prefix, 0, values, 0, prefix.length);
        for (int i = prefix.length; i < values.length; i++) {
            values[i] = i == prefix.length ? next : rest;
        }
        return new Entry(values, rest);
    }

    boolean isUniqueIndex() {
        return unique;
    }

    boolean isMultikey() {
        return multikey.get();
    }

    /**
     * True when every document has exactly one entry here, so the entries in a range are
     * the documents in it: not sparse (a document without the keys has none) and not
     * multikey (an array gives one per element; the flag stays set once any document had
     * one, as MongoDB's does). Partial filters are ignored (see above): if they are ever
     * honoured, a partial index must answer false here.
     */
    boolean hasOneEntryPerDocument() {
        return !isSparse() && !isMultikey();
    }

    int size() {
        return ascending.length;
    }

    boolean isAscending(int i) {
        return ascending[i];
    }

    // -- Index ---------------------------------------------------------------------------------------
    @Override
    public boolean isUnique() {
        return unique;
    }

    @Override
    public Object getPosition(Document document) {
        return positionOf(document);
    }

    @Override
    public void checkAdd(Document document, MongoCollection<Object> collection) {
        checkUnique(keyTuples(document), null, collection);  // a new document: any holder is another
    }

    @Override
    public void add(Document document, Object position, MongoCollection<Object> collection) {
        List<Object[]> tuples = keyTuples(document);
        checkUnique(tuples, position, collection);
        for (Object[] tuple : tuples) {
            entries.add(new Entry(tuple, position));
        }
    }

    @Override
    public Object remove(Document document) {
        Object position = positionOf(document);
        List<Object[]> tuples = keyTuples(document);
        for (Object[] tuple : tuples) {
            entries.remove(new Entry(tuple, position));
        }
        return tuples.isEmpty() ? null : position;
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<Object> collection) {
        checkUnique(keyTuples(newDocument), positionOf(oldDocument), collection);
    }

    @Override
    public void updateInPlace(Document oldDocument, Document newDocument, Object position,
                              MongoCollection<Object> collection) {
        List<Object[]> before = keyTuples(oldDocument);
        List<Object[]> after = keyTuples(newDocument);
        if (sameTuples(before, after)) {
            return;
        }
        checkUnique(after, position, collection);
        for (Object[] tuple : before) {
            entries.remove(new Entry(tuple, position));
        }
        for (Object[] tuple : after) {
            entries.add(new Entry(tuple, position));
        }
    }

    private boolean sameTuples(List<Object[]> a, List<Object[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (compareValues(a.get(i), b.get(i), 0, ascending.length) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Refuses key values already held by a position other than `position` (null: by anyone). */
    private void checkUnique(List<Object[]> tuples, Object position, MongoCollection<Object> collection) {
        if (!unique) {
            return;
        }
        for (Object[] tuple : tuples) {
            for (Entry existing : entries.subSet(new Entry(tuple, Bound.FIRST), true, new Entry(tuple, Bound.LAST), true)) {
                if (position == null || compareValue(existing.position, position, true) != 0) {
                    throw new DuplicateKeyError(this, collection, getKeys(), new KeyValue(tuple));
                }
            }
        }
    }

    /** Upstream's planner asks every index; ours ({@link QueryPlanner}) plans instead. */
    @Override
    public boolean canHandle(Document query) {
        return false;
    }

    @Override
    public Iterable<Object> getPositions(Document query) {
        throw new UnsupportedOperationException("planned by QueryPlanner");
    }

    @Override
    public long getCount() {
        return entries.size();  // O(n): only statistics ask
    }

    @Override
    public boolean isEmpty() {
        return entries.isEmpty();
    }

    @Override
    public long getDataSize() {
        return getCount();
    }

    @Override
    public void drop() {
        entries.clear();
    }

    @Override
    public boolean hasSameOptions(Index<?> other) {
        return super.hasSameOptions(other) && other.isUnique() == unique;
    }
}
