// Package features turns data-product records into feature values. It is
// shared by streaming materialization (online store) and historical
// retrieval (offline, point-in-time joins), so both compute exactly the same
// thing. The package does no I/O.
//
// # Compiling and extracting
//
// [Compile] checks a [featurestorev1.FeatureView] against its entity and
// prepares it: field paths are split, expressions parsed once. A [View] then
// turns one JSON record into an [Event] with [View.Extract]:
//
//   - EntityKey: the entity's join key values, in the entity's join key
//     order, converted to their declared types and encoded with [EncodeKey]
//     (unambiguous for any values). [KeyFromRow] encodes the keys of a
//     request row identically, so records and requests meet on the same key.
//   - EventTime: the view's timestamp_field, an RFC 3339 string (fraction
//     optional, "T" or a space between date and time) or a date
//     "2006-01-02" (midnight UTC).
//   - Values: exactly one slot per feature of the view, in the view's
//     feature order (Values[i] belongs to View.Features[i]):
//     for a field feature the feature's value; for an aggregated feature the
//     aggregation's input (the field value, or the expression's 1/0),
//     converted to [Feature.InputType]; always nil for COUNT and
//     DAYS_SINCE_LAST, which have no input. A nil slot is a null value.
//
// Extract fails only when a join key or the event time is missing, null or
// unparseable (the materializer dead-letters such records). A missing, null
// or unconvertible feature input is a null value, not an error.
//
// Type conversion of a JSON value to a feature type:
//
//	string     a string as is; a number as its JSON text; true/false as "true"/"false"
//	int64      an integral JSON number, or a string holding one ("42", "42.0")
//	double     a number, or a string holding a finite decimal ("19.90")
//	bool       true/false, the strings "true"/"false" (any case), the numbers 0/1
//	timestamp  a string in one of the event-time layouts above
//
// Anything else (objects, arrays, out-of-range numbers) converts to null.
//
// # Expressions
//
// A feature's expression is one comparison: <operand> <op> <operand>, op one
// of > >= < <= == !=, operands a field path (dotted for nested fields), a
// number, a quoted string ("…" with Go escapes, or '…' without escapes),
// true or false; at least one operand must be a field. The result is 1 when
// the comparison holds, 0 when not, and null when an operand is null or
// missing or the operands cannot be compared. Operands compare, in this
// order of preference: chronologically when both are timestamps (strings in
// the event-time layouts), numerically when both are numbers (or strings
// holding numbers, as decimals often are), lexically when both are strings,
// false < true when both are booleans; any other pair is incomparable.
//
// # Aggregations
//
// An aggregated feature is computed at a read time t over the entity's
// events in the window (t-window, t]: event time strictly after t-window and
// at or before t. An event exactly window old is out.
//
//	COUNT            number of events (inputs are not read), int64
//	SUM              sum of the non-null inputs (0 when none), in the feature's type
//	AVG              mean of the non-null inputs as a double (null when none)
//	MIN, MAX         least/greatest non-null input (null when none)
//	LAST             the input of the newest event (null when none, or when that input is null)
//	DISTINCT_COUNT   number of distinct non-null inputs, compared by their string forms, int64
//	DAYS_SINCE_LAST  (t - newest event time) in days, a double (null when none)
//
// "Newest" is the greatest event time; among equal event times the event
// with the greater Seq (applied later) wins. [Aggregate] computes one value
// from a slice of events; [Window] computes the same incrementally for an
// engine that walks events in time order.
//
// # Statuses
//
// At read time t, for one entity:
//
//   - Field features take the value of the newest event at or before t
//     (ties broken by Seq), even when that value is null. NOT_FOUND when the
//     entity has no event at or before t; EXPIRED (value null, event time
//     kept) when t - event time > TTL, with TTL 0 meaning never; an event
//     exactly TTL old is PRESENT.
//   - Aggregated features are PRESENT whenever the entity has any event at
//     or before t, even if none is in the window (COUNT is then 0, SUM 0,
//     the others null), and NOT_FOUND with a null value otherwise. TTL does
//     not apply to them; their window does. Their event time is that of the
//     newest event in the window (unset when the window is empty).
package features
