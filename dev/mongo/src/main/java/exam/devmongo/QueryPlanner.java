package exam.devmongo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.Document;

/**
 * Chooses how to find a query's candidates: one index scan, a union of index scans for a
 * top-level {@code $or}, or (null) a full scan. A scan only has to return a superset in
 * the right order: the collection applies upstream's matcher to every candidate, so the
 * planner may use any condition the query implies and ignore the rest.
 *
 * An index scan uses equality ({@code v}, {@code $eq}) and {@code $in} on leading keys,
 * each combination a separate range, then a range ({@code $gt $gte $lt $lte}) on the next
 * key. When the sort asks for the keys after the equalities (in the index's direction or
 * all reversed), candidates come out already sorted and the limit stops the scan early;
 * several ranges are merged, as MongoDB's SORT_MERGE does.
 */
final class QueryPlanner {

    /** More combinations of $in values than this and the scan stops using further keys. */
    private static final int MAX_RANGES = 1024;
    private static final Comparator<Object> VALUES = ValueComparator.ascWithoutListHandling();

    sealed interface Access permits Scan, Union {
    }

    /**
     * @param equalKeys leading keys fixed by prefixes (each prefix one combination)
     * @param low       first value of the next key (value order, inclusive), or null
     * @param high      last value of the next key (value order, inclusive), or null
     * @param direction 1 or -1 when the scan yields the requested order, 0 when a sort is needed
     */
    record Scan(OrderedIndex index, List<Object[]> prefixes, int equalKeys, Object low, Object high,
                int direction, boolean point) implements Access {

        boolean ranged() {
            return low != null || high != null;
        }
    }

    record Union(List<Scan> branches) implements Access {
    }

    /** The tightest [low, high] of a range condition, in value order; null for an open end. */
    record Range(Object low, Object high) {
        static final Range ALL = new Range(null, null);
    }

    private QueryPlanner() {
    }

    static Access plan(Document query, Document orderBy, List<OrderedIndex> indexes) {
        Map<String, Object> conditions = conditions(query);
        Scan best = bestScan(conditions, orderBy, indexes);
        if (best != null || !(query.get("$or") instanceof Collection<?> branches)) {
            return best;
        }
        List<Scan> scans = new ArrayList<>();
        for (Object branch : branches) {
            if (!(branch instanceof Document clause)) {
                return null;
            }
            Map<String, Object> both = new LinkedHashMap<>(conditions);
            conditions(clause).forEach(both::putIfAbsent);
            Scan scan = bestScan(both, null, indexes);
            if (scan == null) {
                return null;  // one branch needs a full scan: so does the whole query
            }
            scans.add(scan);
        }
        return new Union(scans);
    }

    /** Field conditions the query implies: its own fields and those inside a top-level $and. */
    private static Map<String, Object> conditions(Document query) {
        Map<String, Object> conditions = new LinkedHashMap<>();
        for (Map.Entry<String, Object> entry : query.entrySet()) {
            if (!entry.getKey().startsWith("$")) {
                conditions.putIfAbsent(entry.getKey(), entry.getValue());
            } else if (entry.getKey().equals("$and") && entry.getValue() instanceof Collection<?> clauses) {
                for (Object clause : clauses) {
                    if (clause instanceof Document document) {
                        conditions(document).forEach(conditions::putIfAbsent);
                    }
                }
            }
        }
        return conditions;
    }

    private static Scan bestScan(Map<String, Object> conditions, Document orderBy, List<OrderedIndex> indexes) {
        Scan best = null;
        for (OrderedIndex index : indexes) {
            Scan scan = scan(index, conditions, orderBy);
            if (scan != null && (best == null || better(scan, best))) {
                best = scan;
            }
        }
        return best;
    }

    /**
     * More equality keys first. With as many, a scan that yields the requested order beats
     * one that only adds a range: the ordered one needs no sort of everything it finds and
     * a limit stops it early (the review queue's first page, which filters on the lease as
     * well, has both kinds; MongoDB's planner, racing them, settles on the ordered one).
     */
    private static boolean better(Scan a, Scan b) {
        if (a.point != b.point) {
            return a.point;
        }
        if (a.equalKeys != b.equalKeys) {
            return a.equalKeys > b.equalKeys;
        }
        if ((a.direction != 0) != (b.direction != 0)) {
            return a.direction != 0;
        }
        if (a.ranged() != b.ranged()) {
            return a.ranged();
        }
        return a.index.size() < b.index.size();
    }

    private static Scan scan(OrderedIndex index, Map<String, Object> conditions, Document orderBy) {
        List<String> keys = keysOf(index);
        List<Object[]> prefixes = new ArrayList<>();
        prefixes.add(new Object[0]);
        boolean[] constant = new boolean[keys.size()];
        int equal = 0;
        while (equal < keys.size()) {
            List<Object> points = points(conditions.get(keys.get(equal)));
            if (points == null || prefixes.size() * points.size() > MAX_RANGES) {
                break;
            }
            constant[equal] = points.size() == 1;
            prefixes = extend(prefixes, points);
            equal++;
        }
        Range range = equal < keys.size() ? range(conditions.get(keys.get(equal))) : null;
        if (equal == 0 && range == null) {
            return null;
        }
        boolean point = index.isUniqueIndex() && equal == keys.size() && prefixes.size() == 1;
        int direction = direction(index, keys, equal, constant, orderBy);
        return new Scan(index, prefixes, equal, range == null ? null : range.low, range == null ? null : range.high,
            direction, point);
    }

    /** 1 or -1 if walking the index gives the requested order, else 0. */
    private static int direction(OrderedIndex index, List<String> keys, int equal, boolean[] constant,
                                 Document orderBy) {
        if (orderBy == null || orderBy.isEmpty()) {
            return 1;
        }
        if (index.isMultikey() || orderBy.containsKey("$natural")) {
            return 0;
        }
        int next = equal;
        int direction = 0;
        for (Map.Entry<String, Object> sort : orderBy.entrySet()) {
            int at = keys.indexOf(sort.getKey());
            if (at >= 0 && at < equal && constant[at]) {
                continue;  // sorting by a value fixed by the query changes nothing
            }
            if (at != next || !(sort.getValue() instanceof Number number)) {
                return 0;
            }
            int wanted = number.doubleValue() < 0 ? -1 : 1;
            int here = index.isAscending(at) ? wanted : -wanted;
            if (direction != 0 && here != direction) {
                return 0;
            }
            direction = here;
            next++;
        }
        return direction == 0 ? 1 : direction;
    }

    private static List<String> keysOf(OrderedIndex index) {
        List<String> keys = new ArrayList<>();
        index.getKeys().forEach(key -> keys.add(key.getKey()));
        return keys;
    }

    private static List<Object[]> extend(List<Object[]> prefixes, List<Object> points) {
        List<Object[]> extended = new ArrayList<>(prefixes.size() * points.size());
        for (Object[] prefix : prefixes) {
            for (Object point : points) {
                Object[] longer = java.util.Arrays.copyOf(prefix, prefix.length + 1);
                longer[prefix.length] = point;
                extended.add(longer);
            }
        }
        return extended;
    }

    /** The values an equality or $in condition allows (normalised, distinct), or null. */
    private static List<Object> points(Object condition) {
        if (Values.isPoint(condition)) {
            return List.of(Values.normalize(condition));
        }
        if (!(condition instanceof Document operators) || !onlyOperators(operators)) {
            return null;
        }
        if (operators.containsKey("$eq") && Values.isPoint(operators.get("$eq"))) {
            return List.of(Values.normalize(operators.get("$eq")));
        }
        if (operators.get("$in") instanceof Collection<?> values && !values.isEmpty()) {
            TreeSet<Object> distinct = new TreeSet<>(VALUES);
            for (Object value : values) {
                if (!Values.isPoint(value)) {
                    return null;
                }
                distinct.add(Values.normalize(value));
            }
            return new ArrayList<>(distinct);
        }
        return null;
    }

    /** The tightest [low, high] the range operators allow, or null if there are none. */
    static Range range(Object condition) {
        if (!(condition instanceof Document operators) || !onlyOperators(operators)) {
            return null;
        }
        Object low = null;
        Object high = null;
        for (Map.Entry<String, Object> operator : operators.entrySet()) {
            Object value = operator.getValue();
            if (!Values.isPoint(value)) {
                continue;
            }
            value = Values.normalize(value);
            switch (operator.getKey()) {
                case "$gt", "$gte" -> low = low == null || VALUES.compare(value, low) > 0 ? value : low;
                case "$lt", "$lte" -> high = high == null || VALUES.compare(value, high) < 0 ? value : high;
                default -> {
                }
            }
        }
        return low == null && high == null ? null : new Range(low, high);
    }

    private static boolean onlyOperators(Document document) {
        if (document.isEmpty()) {
            return false;
        }
        for (String key : document.keySet()) {
            if (!key.startsWith("$")) {
                return false;
            }
        }
        return true;
    }
}
