// Package validate checks JSON records against one schema object of a data
// contract. Compile turns the contract into a Schema once; Schema.Validate
// then checks many records, concurrently if need be, with a hand-written
// single-pass JSON scanner (no reflection, no intermediate map) and returns
// every violation of a record, the record to store, its primary key and its
// event time. It does no I/O.
//
// # What a record must be
//
// A record is one JSON object (surrounding white space allowed). Input that
// is not JSON, not an object, not valid UTF-8 (inside strings; outside them
// any non-ASCII byte is a syntax error anyway), repeats a key of the
// contract in one object, nests deeper than Options.MaxDepth objects and
// arrays, or has more than Options.MaxFields keys in all is malformed:
// Result.Err wraps ErrMalformed and there are no violations.
//
// # Rules
//
// Each violation names the JSON path of the value ("destination.country",
// "lines[2].sku") and one rule:
//
//	type           the JSON type does not fit the logical type (or a text
//	               value could not be coerced, see below)
//	required       a required field is missing or null
//	primary_key    a primary-key field is missing or null (reported instead
//	               of "required" for key fields)
//	unknown_field  a key the contract does not declare (contracts are
//	               closed; Options.AllowUnknown lets such keys through)
//	enum           the value's text form is not one of Field.enum
//	pattern        a string does not match Field.pattern
//	minimum        a number (integer, number, decimal) is below Field.minimum
//	maximum        ... above Field.maximum
//	min_length     a string has fewer runes, an array fewer elements, than
//	               Field.min_length
//	max_length     ... more than Field.max_length
//	decimal        a decimal has more integer digits than precision-scale or
//	               more decimal places than scale (trailing fractional zeros
//	               do not count: 1.50 fits scale 1)
//	format         a string is not a valid date/timestamp, or not a uuid or
//	               email address when Field.format says so
//	not_null, accepted_values, range, regex
//	               a field-level quality rule of the contract with severity
//	               error (or none) and tolerance 0 is broken by this record;
//	               rules with a tolerance, warnings and unique are batch
//	               matters and are not checked here
//
// Every violation of a record is reported, in the order of the schema
// (document order of the fields, nested violations under their field,
// array elements in index order, unknown keys last in record order), so
// the result is deterministic. Violation values are the offending value's
// text (strings unescaped), truncated to 256 bytes.
//
// Logical types:
//
//	STRING     a JSON string
//	INTEGER    a JSON number with an integral value within int64; 2.0 and
//	           2e3 are accepted (the record keeps them as written), 1.5 is not
//	NUMBER     any JSON number
//	BOOLEAN    true or false
//	DATE       a string "2006-01-02", or in the layout of Field.format
//	TIMESTAMP  a string in RFC 3339 ("2006-01-02T15:04:05Z", fractional
//	           seconds allowed, a space instead of "T" too), or in
//	           the layout of Field.format; a zone offset is required
//	DECIMAL    a JSON number, or a string such as "-123.45" (sign, digits,
//	           an optional fraction; no exponent), within precision/scale
//	ARRAY      a JSON array whose elements follow Field.items (a null
//	           element is a type violation)
//	OBJECT     a JSON object following Field.properties, checked
//	           recursively and closed like the top level
//
// Field.format on DATE and TIMESTAMP is either a Go layout (containing
// "2006") or a pattern in the common yyyy-MM-dd HH:mm:ss tokens (yyyy, MM,
// dd, HH, mm, ss, SSS, XXX/Z for the zone), translated to a Go layout; the
// names "date", "date-time", "rfc3339" and "iso8601" and anything else
// unrecognised mean the defaults above. On STRING, format "uuid" and
// "email" are checked; other formats are hints only.
//
// Patterns are RE2 and, as in JSON Schema, unanchored: "[0-9]" matches any
// string containing a digit; write ^…$ to match the whole value. Bounds on
// decimals are compared as float64.
//
// # Coercion of text
//
// With Options.CoerceText (values read from CSV), string values are turned
// into the contract's types where that is lossless:
//
//   - "" means absent: the key is dropped (an array element becomes null);
//   - INTEGER: optional sign and decimal digits, surrounding spaces ignored
//     ("42", " -7 ", "+007" → 7); "4.2", "1e3" and "2.0" are type violations
//     (text carries no "integral float" intent);
//   - NUMBER: a JSON number after trimming spaces and an optional "+"
//     ("3.14", "1e3", "-0.5");
//   - BOOLEAN: true/false, 1/0, yes/no in any case;
//   - DECIMAL: stays a string (trimmed), validated as a decimal;
//   - DATE, TIMESTAMP, STRING: kept as they are;
//   - OBJECT, ARRAY: the cell holds JSON text, parsed and checked (and
//     coerced) like any nested value.
//
// A string that cannot be coerced is a "type" violation saying what was
// expected. Result.Record is then the re-encoded record: compact JSON with
// keys in input order and the coerced values; when nothing changed it is
// the input itself.
//
// # Primary key and event time
//
// Result.PrimaryKey holds the text form of the top-level primary-key
// fields in primary_key_position order (positions 0 follow in document
// order): a string's content, a number as written (after coercion: in
// canonical form), "true"/"false". A missing key field gives "" and a
// primary_key violation. Result.EventTime is the value of the top-level
// DATE or TIMESTAMP field named by Options.EventTimeField (a DATE is
// midnight UTC); it is zero when the field is absent or invalid.
package validate
