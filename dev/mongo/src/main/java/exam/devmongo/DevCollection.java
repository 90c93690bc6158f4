package exam.devmongo;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import org.h2.mvstore.MVMap;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;

/**
 * Upstream's H2 collection, finding candidates through {@link QueryPlanner} and handing out
 * copies of stored documents.
 *
 * Why copies: upstream's update changes the document it found in place before putting it
 * back, and that object is the one the store holds. A commit running at the same time
 * (another writer's, or the store's own every second) could serialise it half-changed, and
 * a reader's answer still being encoded could see it change. With copies, a stored
 * document never changes after it is put.
 */
final class DevCollection extends H2Collection {

    private static final Comparator<Object> VALUES = ValueComparator.ascWithoutListHandling();
    private static final Set<String> RANGE_OPERATORS = Set.of("$gt", "$gte", "$lt", "$lte");
    private static final long MAX_EXACT_LONG = 1L << 53;

    DevCollection(MongoDatabase database, String collectionName, CollectionOptions options,
                  MVMap<Object, Document> dataMap, MVMap<String, Object> metaMap, CursorRegistry cursorRegistry) {
        super(database, collectionName, options, dataMap, metaMap, cursorRegistry);
    }

    /** While the database opens, indexes are registered empty and filled in one pass. */
    private boolean deferIndexBuilds;

    /** Counts answered from an index alone ({@link #count}), shown by collStats as
     * {@code devmongo.countsFromIndex} so that tests can see which way a count went. */
    private long countsFromIndex;

    // Index changes take the collection's lock, as queries do, so a query never walks the
    // index list while a service's start-up adds to it.
    @Override
    public synchronized void addIndex(Index<Object> index) {
        if (deferIndexBuilds) {
            getIndexes().add(index);
        } else {
            super.addIndex(index);
        }
    }

    synchronized void deferIndexBuilds() {
        deferIndexBuilds = true;
    }

    /**
     * Fills the indexes registered while opening with one read of the data: upstream reads
     * every document twice per index, and with 200,000 packages and their review cases
     * (5 and 12 indexes) that was minutes of deserialising. Returns the documents read.
     */
    synchronized long buildDeferredIndexes() {
        deferIndexBuilds = false;
        List<Index<Object>> indexes = getIndexes();
        if (indexes.isEmpty()) {
            return 0;
        }
        long[] count = {0};
        streamAllDocumentsWithPosition().forEach(found -> {
            for (Index<Object> index : indexes) {
                index.add(found.getDocument(), found.getPosition(), this);
            }
            count[0]++;
        });
        return count[0];
    }

    @Override
    public synchronized void dropIndex(String indexName) {
        super.dropIndex(indexName);
    }

    /**
     * Deletes as it finds. Upstream first collects every matching document (copied, here),
     * which for a cleanup of 200,000 packages is gigabytes of heap; this holds only the
     * candidates' positions.
     */
    @Override
    public synchronized int deleteDocuments(Document selector, int limit, Oplog oplog) {
        List<Object> candidates = new ArrayList<>();
        QueryPlanner.Access access = QueryPlanner.plan(selector, null, orderedIndexes());
        if (access == null) {
            streamAllDocumentsWithPosition().forEach(found -> candidates.add(found.getPosition()));
        } else {
            candidates.addAll(positions(access));
        }
        List<Object> deletedIds = new ArrayList<>();
        for (Object position : candidates) {
            Document document = getDocument(position);
            if (document == null || !documentMatchesQuery(document, selector)) {
                continue;
            }
            deletedIds.add(document.get(getIdField()));
            removeDocument(document);
            if (limit > 0 && deletedIds.size() >= limit) {
                break;
            }
        }
        oplog.handleDelete(getFullName(), selector, deletedIds);
        return deletedIds.size();
    }

    /**
     * Counts from an index when it is sure to give the scan's answer. Upstream counts by
     * running the query, reading every matching document: one site's counts per status
     * (the review queue's, 63,000 cases at 200,000 packages) took 5.3 s, past the service's
     * deadline. MongoDB answers them from the index (COUNT_SCAN), and so does this when the
     * query is only equalities to strings on leading keys of an index with one entry per
     * document, maybe with a range on the next key ({@link #countFromIndex}); anything else
     * is counted as upstream does.
     */
    @Override
    public int count(Document query, int skip, int limit) {
        Integer counted = skip == 0 && limit <= 0 ? countFromIndex(query) : null;
        return counted != null ? counted : super.count(query, skip, limit);
    }

    /**
     * The number of entries under the query's values in an index whose leading keys are
     * exactly the query's equality fields, or null; a range on one more field (the review
     * queue's expired claims: a lease before now) must be on the next key. Entries are
     * documents only if every document has one ({@link OrderedIndex#hasOneEntryPerDocument}).
     * Equalities to strings only: an index entry equals a string exactly when the matcher's
     * equality holds (same type, same characters), which is not so for numbers (the index
     * compares a long beyond a double's precision with a double as longs: Long.MAX_VALUE
     * and 2^63 are one key, the matcher finds them different). Top-level fields only: a
     * dotted path may reach into an array element by its number. Under the collection's
     * lock, so a write is counted wholly or not at all (an update that moves a document
     * removes its entry, then adds).
     */
    private synchronized Integer countFromIndex(Document query) {
        if (query == null || query.isEmpty() || deferIndexBuilds) {
            return null;  // no query: upstream counts the data map, no reading either
        }
        String rangeField = null;
        for (Map.Entry<String, Object> condition : query.entrySet()) {
            String field = condition.getKey();
            if (field.startsWith("$") || field.contains(".")) {
                return null;
            }
            if (!(condition.getValue() instanceof String)) {
                if (rangeField != null || !isCountableRange(condition.getValue())) {
                    return null;
                }
                rangeField = field;
            }
        }
        for (OrderedIndex index : orderedIndexes()) {
            Object[] prefix = leadingValues(query, index, rangeField);
            if (prefix != null && index.hasOneEntryPerDocument()) {
                countsFromIndex++;
                return countInScan(index, prefix, rangeField, query);
            }
        }
        return null;
    }

    /**
     * A range the index can bound exactly: only {@code $gt $gte $lt $lte}, each to a string,
     * a date or a number the index orders as the matcher compares it (not NaN, no long
     * beyond a double's precision; see above).
     */
    private static boolean isCountableRange(Object condition) {
        if (!(condition instanceof Document operators) || operators.isEmpty()) {
            return false;
        }
        for (Map.Entry<String, Object> operator : operators.entrySet()) {
            if (!RANGE_OPERATORS.contains(operator.getKey())) {
                return false;
            }
            Object value = operator.getValue();
            boolean ordered = value instanceof String || value instanceof Instant
                || value instanceof Integer
                || value instanceof Long l && Math.abs(l) <= MAX_EXACT_LONG
                || value instanceof Double d && !d.isNaN();
            if (!ordered) {
                return false;
            }
        }
        return true;
    }

    /**
     * The prefix's entries, or with a range those whose next value it matches: the walk is
     * the planner's scan of that range (bounded by its ends in index order), and each
     * entry's value is put to upstream's matcher, so values of other types between the
     * ends (a string among numbers, null for a missing field) are left out as reading the
     * documents would leave them out.
     */
    private int countInScan(OrderedIndex index, Object[] prefix, String rangeField, Document query) {
        QueryPlanner.Range range = rangeField == null ? QueryPlanner.Range.ALL
            : QueryPlanner.range(query.get(rangeField));
        QueryPlanner.Scan scan = new QueryPlanner.Scan(index, List.<Object[]>of(prefix), prefix.length,
            range.low(), range.high(), 1, false);
        Document condition = rangeField == null ? null : new Document(rangeField, query.get(rangeField));
        int count = 0;
        for (NavigableSet<OrderedIndex.Entry> entries : ranges(scan)) {  // one, or none if the ends cross
            if (condition == null) {
                count += entries.size();
                continue;
            }
            for (OrderedIndex.Entry entry : entries) {
                if (documentMatchesQuery(new Document(rangeField, entry.values()[prefix.length]), condition)) {
                    count++;
                }
            }
        }
        return count;
    }

    /** The query's equality values in the order of the index's first keys, if those are
     * its equality fields and `rangeField` (if any) is the key after them; else null. */
    private static Object[] leadingValues(Document query, OrderedIndex index, String rangeField) {
        int equalities = rangeField == null ? query.size() : query.size() - 1;
        if (index.size() < query.size()) {
            return null;
        }
        Object[] values = new Object[equalities];
        for (int i = 0; i < equalities; i++) {
            String key = index.getKeys().get(i).getKey();
            if (!query.containsKey(key) || key.equals(rangeField)) {
                return null;
            }
            values[i] = query.get(key);
        }
        if (rangeField != null && !index.getKeys().get(equalities).getKey().equals(rangeField)) {
            return null;
        }
        return values;  // an index names a key once: these are all of the query's fields
    }

    @Override
    public synchronized Document getStats() {
        Document stats = super.getStats();
        stats.put("devmongo", new Document("countsFromIndex", countsFromIndex));
        return stats;
    }

    @Override
    protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int limit,
                                         int batchSize, Document fieldSelector) {
        QueryPlanner.Access access = QueryPlanner.plan(query, orderBy, orderedIndexes());
        if (access == null) {
            return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
        }
        if (access instanceof QueryPlanner.Scan scan && scan.direction() != 0) {
            Stream<Document> inOrder = stream(positionsInOrder(scan)).map(this::getDocument).filter(Objects::nonNull);
            return matchDocumentsFromStream(query, inOrder, numberToSkip, limit, batchSize, null, fieldSelector);
        }
        return matchDocuments(query, positions(access), orderBy, numberToSkip, limit, batchSize, fieldSelector);
    }

    /** Every position the plan's ranges hold, once each, in no particular order. */
    private static Set<Object> positions(QueryPlanner.Access access) {
        Set<Object> positions = new LinkedHashSet<>();
        List<QueryPlanner.Scan> scans = access instanceof QueryPlanner.Union union ? union.branches()
            : List.of((QueryPlanner.Scan) access);
        for (QueryPlanner.Scan scan : scans) {
            for (NavigableSet<OrderedIndex.Entry> range : ranges(scan)) {
                range.forEach(entry -> positions.add(entry.position()));
            }
        }
        return positions;
    }

    @Override
    protected QueryResult matchDocumentsFromStream(Document query, Stream<Document> documentStream, int numberToSkip,
                                                   int limit, int batchSize, Comparator<Document> comparator,
                                                   Document fieldSelector) {
        Stream<Document> copies = documentStream
            .filter(document -> documentMatchesQuery(document, query))
            .map(Document::cloneDeeply);
        return super.matchDocumentsFromStream(query, copies, numberToSkip, limit, batchSize, comparator, fieldSelector);
    }

    private List<OrderedIndex> orderedIndexes() {
        List<OrderedIndex> ordered = new ArrayList<>();
        for (Index<Object> index : getIndexes()) {
            if (index instanceof OrderedIndex orderedIndex) {
                ordered.add(orderedIndex);
            }
        }
        return ordered;
    }

    /** One range per prefix, in the scan's direction; none if the bounds exclude everything. */
    private static List<NavigableSet<OrderedIndex.Entry>> ranges(QueryPlanner.Scan scan) {
        Object low = scan.low();
        Object high = scan.high();
        if (low != null && high != null && VALUES.compare(low, high) > 0) {
            return List.of();
        }
        OrderedIndex index = scan.index();
        boolean ascending = scan.equalKeys() >= index.size() || index.isAscending(scan.equalKeys());
        Object first = ascending ? low : high;
        Object last = ascending ? high : low;
        List<NavigableSet<OrderedIndex.Entry>> ranges = new ArrayList<>();
        for (Object[] prefix : scan.prefixes()) {
            NavigableSet<OrderedIndex.Entry> range = index.range(prefix,
                first == null ? OrderedIndex.Bound.FIRST : first, last == null ? OrderedIndex.Bound.LAST : last);
            ranges.add(scan.direction() < 0 ? range.descendingSet() : range);
        }
        return ranges;
    }

    /** Positions in index order, the ranges merged on the keys after the equalities. */
    private static Iterator<Object> positionsInOrder(QueryPlanner.Scan scan) {
        OrderedIndex index = scan.index();
        int from = scan.equalKeys();
        Comparator<OrderedIndex.Entry> order = (a, b) -> {
            int c = index.compareValues(a.values(), b.values(), from, index.size());
            return c != 0 ? c : VALUES.compare(a.position(), b.position());
        };
        Comparator<OrderedIndex.Entry> merge = scan.direction() < 0 ? order.reversed() : order;
        PriorityQueue<Head> heads = new PriorityQueue<>((a, b) -> merge.compare(a.entry, b.entry));
        for (NavigableSet<OrderedIndex.Entry> range : ranges(scan)) {
            Iterator<OrderedIndex.Entry> iterator = range.iterator();
            if (iterator.hasNext()) {
                heads.add(new Head(iterator.next(), iterator));
            }
        }
        Set<Object> seen = index.isMultikey() ? new HashSet<>() : null;
        return new Iterator<>() {
            private Object next = advance();

            private Object advance() {
                while (!heads.isEmpty()) {
                    Head head = heads.poll();
                    Object position = head.entry.position();
                    if (head.rest.hasNext()) {
                        heads.add(new Head(head.rest.next(), head.rest));
                    }
                    if (seen == null || seen.add(position)) {
                        return position;
                    }
                }
                return null;
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            public Object next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                Object current = next;
                next = advance();
                return current;
            }
        };
    }

    private record Head(OrderedIndex.Entry entry, Iterator<OrderedIndex.Entry> rest) {
    }

    private static <T> Stream<T> stream(Iterator<T> iterator) {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator, Spliterator.ORDERED), false);
    }
}
