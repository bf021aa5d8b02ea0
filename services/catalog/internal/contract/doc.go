// Package contract is the domain logic of data contracts: validation,
// compatibility between versions, and the ODCS v3.1 interchange format. It
// works directly on the generated catalogv1 types and does no I/O.
//
// # Validation
//
// Validate returns every FieldViolation of a contract (paths use the proto
// field names, e.g. "schema[0].properties[2].min_length"):
//
//   - domain and product are lowercase DNS labels (names.IsLabel), at most
//     MaxNameLen characters; version is strict semver MAJOR.MINOR.PATCH with
//     an optional -prerelease (ParseSemver);
//   - 1..MaxObjects schema objects, each with at least one field; object and
//     field names match [A-Za-z_][A-Za-z0-9_]* (ValidIdentifier) and are
//     unique within their parent; at most MaxFields fields in all, nested at
//     most MaxDepth levels;
//   - every field has a logical type; ARRAY has items, OBJECT has
//     properties, no other type has either; array items are never required,
//     unique or keys;
//   - minimum/maximum only on integer, number and decimal (finite, min <=
//     max); min_length/max_length only on strings (>= 0, min <= max);
//     pattern only on strings and it compiles as RE2; enum values unique,
//     non-empty, at most MaxEnumValues, numeric for numeric types, not on
//     boolean, array or object; decimal precision 1..MaxDecimalPrecision and
//     scale 0..precision, nothing else has precision or scale;
//   - primary-key fields are required top-level scalar fields; positions are
//     all 0 or exactly 1..n;
//   - quality rules carry exactly the parameters of their type (see
//     validator.quality) and sit where the type applies (row_count on
//     objects, not_null/unique/accepted_values/range/regex on fields,
//     freshness on objects or date/timestamp fields);
//   - SLA durations are not negative; contract_created_ts is RFC 3339.
//
// # Compatibility
//
// Check compares a candidate with the earlier versions of its major, with
// Confluent Schema Registry's meaning of the modes:
//
//	mode                 reader      writer      compared with
//	BACKWARD (default)   candidate   previous    the latest previous version
//	FORWARD              previous    candidate   the latest previous version
//	FULL                 both directions         the latest previous version
//	*_TRANSITIVE         as above                every earlier version of the major
//	NONE                 nothing is checked
//
// One rule, canRead(reader, writer), decides whether a consumer built on the
// reader contract can read every record valid under the writer contract.
// Objects and fields match by name; object fields and array items are
// compared recursively. The reader breaks when:
//
//	reader requires a field the writer lacks       field_added_required (backward) / field_removed (forward)
//	reader requires a field the writer has optional optional_made_required / required_made_optional
//	reader's type does not accept the writer's      type_narrowed / type_widened / type_changed; items_type_changed
//	writer's enum has values outside the reader's   enum_narrowed / enum_widened
//	  (or the writer has no enum, the reader has)
//	writer's min/max lies outside the reader's      range_narrowed / range_widened
//	  (an unbounded writer side counts as outside)
//	writer's lengths lie outside the reader's       length_narrowed / length_widened
//	reader has a pattern the writer does not share  pattern_changed
//	reader demands uniqueness the writer lacks      unique_added / unique_removed
//	reader's primary key differs from the writer's  primary_key_changed
//	an object of the previous version is missing    object_removed (both directions)
//
// Fields the writer has and the reader lacks are fine: readers ignore
// unknown fields. Objects are the exception: removing one breaks its
// consumers in every mode (adding one breaks nobody). Accepted type
// widenings: integer → number, decimal → number, integer → decimal with at
// least 19 integer digits, decimal(p,s) → decimal(p',s') when s' >= s and
// p'-s' >= p-s. Nothing widens to string, and date does not widen to
// timestamp. Format hints, descriptions, tags, classification, quality
// rules and the SLA do not affect compatibility: they describe or police
// the data but do not change what a reader must parse.
//
// Violations read from the previous version to the candidate (old_value is
// the previous side). Every violation is reported, once, sorted by
// against_version, field and rule.
//
// # ODCS v3.1
//
// ParseODCS and ExportODCS convert between Contract and ODCS v3.1 YAML
// (apiVersion v3.1.0, kind DataContract). Documents over MaxYAMLBytes,
// invalid YAML, YAML aliases, and a wrong apiVersion or kind are rejected
// with a *ParseError naming the field. The mapping:
//
//   - id, name, version, domain, dataProduct (product), tenant, tags,
//     description.{purpose,usage,limitations}, contractCreatedTs: verbatim.
//   - status draft/active/deprecated/retired; "proposed" reads as draft and
//     is reported as unmodeled (it does not survive a round trip).
//   - schema[]: name, physicalName, physicalType, businessName, description,
//     tags, properties, quality.
//   - properties[]: name, logicalType, physicalType, description,
//     businessName, required, unique, primaryKey, primaryKeyPosition (-1,
//     the ODCS default, means not in the key), classification,
//     criticalDataElement, tags, examples, properties (object), items
//     (array), quality, and logicalTypeOptions pattern, minimum, maximum,
//     minLength, maxLength, format.
//   - decimal: logicalType number with logicalTypeOptions format "decimal"
//     plus precision and scale; on input, precision and scale missing from
//     logicalTypeOptions are read from a physicalType such as decimal(10,2).
//   - enum: logicalTypeOptions.enum, an aifactory extension (ODCS v3.1 has
//     no enum option; v3.2 adds a property-level one).
//   - logicalType time reads as string and is reported; date/timestamp
//     bounds (strings) and other options (exclusiveMinimum, multipleOf, …)
//     are reported.
//   - classification public, internal, confidential or pii, any case. Other
//     values ("restricted", "sensitive", numeric levels) are rejected with
//     an error rather than dropped or guessed: a lost classification would
//     under-protect sensitive data.
//   - slaProperties latency (also ly, freshness), frequency (fy) and
//     retention (re) with a value and unit (s, m, h, d, w, y and their long
//     forms; a year is 365 days) become Sla seconds; export writes the
//     largest of d, h, m, s that divides the duration. Other SLA properties
//     are reported.
//   - quality rules: see the table at defaultDimension in odcs.go. In short,
//     not_null, unique, accepted_values, regex and row_count are ODCS
//     library metrics (nullValues, duplicateValues, invalidValues with
//     validValues or pattern, rowCount); range and freshness, which ODCS
//     lacks, are type custom with engine aifactory and an implementation
//     mapping. A dimension equal to the one export writes is accepted,
//     others are reported. Rules without an equivalent (text, sql, other
//     engines, missingValues, operators that do not map exactly) are
//     reported as a whole and left out.
//
// Everything else in the input (servers, team, roles, support, price,
// authoritativeDefinitions, customProperties, relationships, partitioning,
// unknown keys…) is returned in the unmodeled list as dotted paths, never
// dropped silently; null and empty values are not reported. Export writes
// keys in a fixed order and omits defaults, so ExportODCS is deterministic,
// ParseODCS(ExportODCS(c)) equals c for every valid contract (output-only
// created_at and created_by aside, and an Sla with no durations reads back
// as no Sla), and ExportODCS(ParseODCS(x)) keeps every element of x that is
// modeled.
package contract
