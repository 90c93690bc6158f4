package exam.devmongo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;

/** How values are compared in indexes: upstream's normalisation (its Utils.normalizeValue is
 * package-private), so 1, 1L and 1.0 are one key and a missing field is null. */
final class Values {

    private Values() {
    }

    static Object normalize(Object value) {
        if (Missing.isNullOrMissing(value)) {
            return null;
        }
        if (value instanceof Long l && (long) (double) l != l) {
            return l;  // beyond a double's precision: keep it exact
        }
        if (value instanceof Number n) {
            double d = n.doubleValue();
            return d == -0.0 ? 0.0 : d;
        }
        if (value instanceof Map<?, ?> map) {
            Document result = new Document();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                result.put(entry.getKey().toString(), normalize(entry.getValue()));
            }
            return result;
        }
        if (value instanceof Collection<?> values) {
            List<Object> result = new ArrayList<>(values.size());
            for (Object element : values) {
                result.add(normalize(element));
            }
            return result;
        }
        return value;
    }

    /** A value an index can look up by equality: not null (which also matches missing
     * fields), not an array or sub-document (whole-value matches), not a pattern. */
    static boolean isPoint(Object value) {
        return value != null && !(value instanceof Missing) && !(value instanceof Map)
            && !(value instanceof Collection) && !BsonRegularExpression.isRegularExpression(value)
            && !(value instanceof java.util.regex.Pattern);
    }
}
