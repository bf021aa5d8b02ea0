package contract

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aifactory/aifactory/libs/names"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// Documented limits of a contract. Validate enforces all of them except
// MaxYAMLBytes, which ParseODCS enforces.
const (
	// MaxYAMLBytes is the largest ODCS document ParseODCS accepts.
	MaxYAMLBytes = 1 << 20
	// MaxObjects is the most schema objects in one contract.
	MaxObjects = 50
	// MaxFields is the most fields in one contract, counting nested fields
	// and array item definitions.
	MaxFields = 500
	// MaxDepth is the deepest nesting of fields: a top-level property is at
	// depth 1, its nested properties (or array items) at depth 2, and so on.
	MaxDepth = 8
	// MaxEnumValues is the most allowed values of one field (or of one
	// accepted_values quality rule).
	MaxEnumValues = 1000
	// MaxNameLen is the longest domain or data product name (a DNS label).
	MaxNameLen = names.MaxLabelLen
	// MaxIdentifierLen is the longest schema object, field or quality rule
	// name, tag, contract id, and the longest tenant.
	MaxIdentifierLen = 128
	// MaxTextLen is the longest free-text value (descriptions, purpose,
	// usage, limitations, examples, patterns, enum values).
	MaxTextLen = 16 << 10
	// MaxDecimalPrecision is the largest decimal precision (as in most SQL
	// engines).
	MaxDecimalPrecision = 38
	// MaxQualityRules is the most quality rules on one object or field.
	MaxQualityRules = 50
)

var (
	identifierRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// FieldViolation is one reason why a contract is invalid: the path of the
// offending element in the Contract message (proto field names, e.g.
// "schema[0].properties[2].name") and what is wrong with it. It maps onto
// google.rpc.BadRequest.FieldViolation.
type FieldViolation struct {
	Field       string
	Description string
}

func (v FieldViolation) String() string { return v.Field + ": " + v.Description }

// ValidIdentifier reports whether s is a valid schema object or field name:
// a letter or underscore followed by letters, digits and underscores, at
// most MaxIdentifierLen characters.
func ValidIdentifier(s string) bool {
	return len(s) <= MaxIdentifierLen && identifierRE.MatchString(s)
}

// Validate checks a contract against the rules in the package
// documentation and returns every violation, in document order. A nil
// result means valid. Output-only fields (created_at, created_by) are not
// checked.
func Validate(c *catalogv1.Contract) []FieldViolation {
	v := &validator{}
	if c == nil {
		v.add("contract", "is required")
		return v.out
	}
	if len(c.GetId()) > MaxIdentifierLen {
		v.add("id", "is longer than %d characters", MaxIdentifierLen)
	}
	v.name("domain", c.GetDomain())
	v.name("product", c.GetProduct())
	if _, err := ParseSemver(c.GetVersion()); err != nil {
		v.add("version", "must be a semantic version MAJOR.MINOR.PATCH[-prerelease], got %q", c.GetVersion())
	}
	if _, ok := catalogv1.ContractStatus_name[int32(c.GetStatus())]; !ok {
		v.add("status", "unknown status %d", c.GetStatus())
	}
	v.text("name", c.GetName(), MaxIdentifierLen)
	v.text("purpose", c.GetPurpose(), MaxTextLen)
	v.text("usage", c.GetUsage(), MaxTextLen)
	v.text("limitations", c.GetLimitations(), MaxTextLen)
	v.text("tenant", c.GetTenant(), MaxIdentifierLen)
	v.tags("tags", c.GetTags())
	if ts := c.GetContractCreatedTs(); ts != "" {
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			v.add("contract_created_ts", "must be an RFC 3339 timestamp, got %q", ts)
		}
	}
	if s := c.GetSla(); s != nil {
		for _, f := range []struct {
			path string
			val  int64
		}{
			{"sla.max_freshness_seconds", s.GetMaxFreshnessSeconds()},
			{"sla.update_frequency_seconds", s.GetUpdateFrequencySeconds()},
			{"sla.retention_seconds", s.GetRetentionSeconds()},
		} {
			if f.val < 0 {
				v.add(f.path, "must not be negative")
			}
		}
	}

	switch n := len(c.GetSchema()); {
	case n == 0:
		v.add("schema", "needs at least one schema object")
	case n > MaxObjects:
		v.add("schema", "has %d objects, more than %d", n, MaxObjects)
	}
	objs := map[string]bool{}
	for i, o := range c.GetSchema() {
		p := fmt.Sprintf("schema[%d]", i)
		if o == nil {
			v.add(p, "is empty")
			continue
		}
		v.identifier(p+".name", o.GetName())
		if objs[o.GetName()] && o.GetName() != "" {
			v.add(p+".name", "duplicate schema object name %q", o.GetName())
		}
		objs[o.GetName()] = true
		v.text(p+".physical_name", o.GetPhysicalName(), MaxIdentifierLen)
		v.text(p+".physical_type", o.GetPhysicalType(), MaxIdentifierLen)
		v.text(p+".business_name", o.GetBusinessName(), MaxIdentifierLen)
		v.text(p+".description", o.GetDescription(), MaxTextLen)
		v.tags(p+".tags", o.GetTags())
		if len(o.GetProperties()) == 0 {
			v.add(p+".properties", "needs at least one field")
		}
		v.fields(p+".properties", o.GetProperties(), 1, true)
		v.quality(p+".quality", o.GetQuality(), nil)
	}
	if v.fieldCount > MaxFields {
		v.add("schema", "has %d fields (counting nested fields), more than %d", v.fieldCount, MaxFields)
	}
	return v.out
}

type validator struct {
	out        []FieldViolation
	fieldCount int
}

func (v *validator) add(field, format string, args ...any) {
	v.out = append(v.out, FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

func (v *validator) name(path, s string) {
	switch {
	case s == "":
		v.add(path, "is required")
	case len(s) > MaxNameLen:
		v.add(path, "is longer than %d characters", MaxNameLen)
	case !names.IsLabel(s):
		v.add(path, "must be a lowercase DNS label [a-z0-9]([-a-z0-9]*[a-z0-9])?, got %q", s)
	}
}

func (v *validator) identifier(path, s string) {
	switch {
	case s == "":
		v.add(path, "is required")
	case len(s) > MaxIdentifierLen:
		v.add(path, "is longer than %d characters", MaxIdentifierLen)
	case !identifierRE.MatchString(s):
		v.add(path, "must match [A-Za-z_][A-Za-z0-9_]*, got %q", s)
	}
}

func (v *validator) text(path, s string, max int) {
	if len(s) > max {
		v.add(path, "is longer than %d characters", max)
	}
}

func (v *validator) tags(path string, tags []string) {
	seen := map[string]bool{}
	for i, t := range tags {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case strings.TrimSpace(t) == "":
			v.add(p, "must not be empty")
		case len(t) > MaxIdentifierLen:
			v.add(p, "is longer than %d characters", MaxIdentifierLen)
		case seen[t]:
			v.add(p, "duplicate tag %q", t)
		}
		seen[t] = true
	}
}

func isNumeric(t catalogv1.LogicalType) bool {
	return t == catalogv1.LogicalType_LOGICAL_TYPE_INTEGER || t == catalogv1.LogicalType_LOGICAL_TYPE_NUMBER || t == catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL
}

// fields validates the properties of an object (top: the properties of a
// schema object, where primary keys live) at nesting depth.
func (v *validator) fields(path string, fs []*catalogv1.Field, depth int, top bool) {
	names := map[string]bool{}
	var pkPositions []int32
	pkCount := 0
	for i, f := range fs {
		p := fmt.Sprintf("%s[%d]", path, i)
		if f == nil {
			v.add(p, "is empty")
			continue
		}
		v.identifier(p+".name", f.GetName())
		if names[f.GetName()] && f.GetName() != "" {
			v.add(p+".name", "duplicate field name %q", f.GetName())
		}
		names[f.GetName()] = true
		v.field(p, f, depth)
		if f.GetPrimaryKey() {
			pkCount++
			pkPositions = append(pkPositions, f.GetPrimaryKeyPosition())
			switch {
			case !top:
				v.add(p+".primary_key", "only fields of a schema object can be part of its primary key, not nested fields")
			case !f.GetRequired():
				v.add(p+".required", "primary-key fields must be required")
			}
			if t := f.GetLogicalType(); t == catalogv1.LogicalType_LOGICAL_TYPE_ARRAY || t == catalogv1.LogicalType_LOGICAL_TYPE_OBJECT {
				v.add(p+".primary_key", "a %s field cannot be part of a primary key", logicalTypeName(t))
			}
		} else if f.GetPrimaryKeyPosition() != 0 {
			v.add(p+".primary_key_position", "is set but the field is not part of the primary key")
		}
	}
	// Positions are either all 0 (single key, or declaration order) or
	// exactly 1..n.
	if pkCount > 0 && slices.ContainsFunc(pkPositions, func(x int32) bool { return x != 0 }) {
		slices.Sort(pkPositions)
		for i, x := range pkPositions {
			if x != int32(i+1) {
				v.add(path, "primary_key_position of the %d primary-key fields must be 1..%d, each once", pkCount, pkCount)
				break
			}
		}
	}
}

func (v *validator) field(p string, f *catalogv1.Field, depth int) {
	v.fieldCount++
	if depth > MaxDepth {
		v.add(p, "is nested %d levels deep, more than %d", depth, MaxDepth)
		return
	}
	t := f.GetLogicalType()
	if _, ok := catalogv1.LogicalType_name[int32(t)]; !ok || t == catalogv1.LogicalType_LOGICAL_TYPE_UNSPECIFIED {
		v.add(p+".logical_type", "is required (string, integer, number, boolean, date, timestamp, decimal, array or object)")
	}
	if _, ok := catalogv1.Classification_name[int32(f.GetClassification())]; !ok {
		v.add(p+".classification", "unknown classification %d", f.GetClassification())
	}
	v.text(p+".physical_type", f.GetPhysicalType(), MaxIdentifierLen)
	v.text(p+".business_name", f.GetBusinessName(), MaxIdentifierLen)
	v.text(p+".description", f.GetDescription(), MaxTextLen)
	v.text(p+".format", f.GetFormat(), MaxIdentifierLen)
	v.tags(p+".tags", f.GetTags())
	for i, e := range f.GetExamples() {
		v.text(fmt.Sprintf("%s.examples[%d]", p, i), e, MaxTextLen)
	}
	if f.GetPrimaryKeyPosition() < 0 {
		v.add(p+".primary_key_position", "must not be negative")
	}

	// Structure: ARRAY has items, OBJECT has properties, nothing else has
	// either.
	switch t {
	case catalogv1.LogicalType_LOGICAL_TYPE_ARRAY:
		if f.GetItems() == nil {
			v.add(p+".items", "an array field needs items")
		}
		if len(f.GetProperties()) > 0 {
			v.add(p+".properties", "only object fields have properties; describe array elements in items")
		}
	case catalogv1.LogicalType_LOGICAL_TYPE_OBJECT:
		if len(f.GetProperties()) == 0 {
			v.add(p+".properties", "an object field needs properties")
		}
		if f.GetItems() != nil {
			v.add(p+".items", "only array fields have items")
		}
	default:
		if len(f.GetProperties()) > 0 {
			v.add(p+".properties", "only object fields have properties")
		}
		if f.GetItems() != nil {
			v.add(p+".items", "only array fields have items")
		}
	}
	v.fields(p+".properties", f.GetProperties(), depth+1, false)
	if it := f.GetItems(); it != nil {
		ip := p + ".items"
		if it.GetName() != "" && !ValidIdentifier(it.GetName()) {
			v.add(ip+".name", "must match [A-Za-z_][A-Za-z0-9_]*, got %q", it.GetName())
		}
		if it.GetPrimaryKey() || it.GetUnique() || it.GetRequired() {
			v.add(ip, "array items cannot be required, unique or part of a primary key")
		}
		v.field(ip, it, depth+1)
	}

	// Value constraints and the types they apply to.
	if f.Minimum != nil || f.Maximum != nil {
		if !isNumeric(t) {
			v.add(p+".minimum", "minimum and maximum apply to integer, number and decimal fields only")
		}
		for _, b := range []struct {
			name string
			val  *float64
		}{{"minimum", f.Minimum}, {"maximum", f.Maximum}} {
			if b.val != nil && (math.IsNaN(*b.val) || math.IsInf(*b.val, 0)) {
				v.add(p+"."+b.name, "must be a finite number")
			}
		}
		if f.Minimum != nil && f.Maximum != nil && f.GetMinimum() > f.GetMaximum() {
			v.add(p+".minimum", "minimum %g is greater than maximum %g", f.GetMinimum(), f.GetMaximum())
		}
	}
	if f.MinLength != nil || f.MaxLength != nil {
		if t != catalogv1.LogicalType_LOGICAL_TYPE_STRING {
			v.add(p+".min_length", "min_length and max_length apply to string fields only")
		}
		if f.GetMinLength() < 0 {
			v.add(p+".min_length", "must not be negative")
		}
		if f.GetMaxLength() < 0 {
			v.add(p+".max_length", "must not be negative")
		}
		if f.MinLength != nil && f.MaxLength != nil && f.GetMinLength() > f.GetMaxLength() {
			v.add(p+".min_length", "min_length %d is greater than max_length %d", f.GetMinLength(), f.GetMaxLength())
		}
	}
	if f.GetPattern() != "" {
		if t != catalogv1.LogicalType_LOGICAL_TYPE_STRING {
			v.add(p+".pattern", "a pattern applies to string fields only")
		}
		v.pattern(p+".pattern", f.GetPattern())
	}
	if len(f.GetEnum()) > 0 {
		switch t {
		case catalogv1.LogicalType_LOGICAL_TYPE_ARRAY, catalogv1.LogicalType_LOGICAL_TYPE_OBJECT, catalogv1.LogicalType_LOGICAL_TYPE_BOOLEAN:
			v.add(p+".enum", "allowed values do not apply to %s fields", logicalTypeName(t))
		}
		v.values(p+".enum", f.GetEnum(), t)
	}
	if t == catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL {
		if f.GetPrecision() < 1 || f.GetPrecision() > MaxDecimalPrecision {
			v.add(p+".precision", "a decimal needs a precision of 1..%d, got %d", MaxDecimalPrecision, f.GetPrecision())
		}
		if f.GetScale() < 0 || f.GetScale() > f.GetPrecision() {
			v.add(p+".scale", "must be between 0 and the precision %d, got %d", f.GetPrecision(), f.GetScale())
		}
		if f.GetFormat() != "" {
			// ODCS carries a decimal as logicalTypeOptions.format "decimal".
			v.add(p+".format", "a decimal field has no format")
		}
	} else if f.GetPrecision() != 0 || f.GetScale() != 0 {
		v.add(p+".precision", "precision and scale apply to decimal fields only")
	}
	if t == catalogv1.LogicalType_LOGICAL_TYPE_NUMBER && strings.EqualFold(f.GetFormat(), "decimal") {
		// In ODCS that spelling is how a decimal travels.
		v.add(p+".format", "a number with format decimal is a decimal field: use logical_type DECIMAL with precision and scale")
	}
	v.quality(p+".quality", f.GetQuality(), f)
}

func (v *validator) pattern(path, re string) {
	if len(re) > MaxTextLen {
		v.add(path, "is longer than %d characters", MaxTextLen)
		return
	}
	if _, err := regexp.Compile(re); err != nil {
		v.add(path, "is not a valid RE2 regular expression: %v", err)
	}
}

// values checks a list of allowed values: unique, non-empty, at most
// MaxEnumValues, and parseable as the field's type when it is numeric.
func (v *validator) values(path string, vals []string, t catalogv1.LogicalType) {
	if len(vals) > MaxEnumValues {
		v.add(path, "has %d values, more than %d", len(vals), MaxEnumValues)
		return
	}
	seen := map[string]bool{}
	for i, e := range vals {
		ep := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case e == "":
			v.add(ep, "must not be empty")
		case len(e) > MaxTextLen:
			v.add(ep, "is longer than %d characters", MaxTextLen)
		case seen[e]:
			v.add(ep, "duplicate value %q", e)
		case t == catalogv1.LogicalType_LOGICAL_TYPE_INTEGER:
			if _, err := strconv.ParseInt(e, 10, 64); err != nil {
				v.add(ep, "%q is not an integer", e)
			}
		case t == catalogv1.LogicalType_LOGICAL_TYPE_NUMBER || t == catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL:
			if x, err := strconv.ParseFloat(e, 64); err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				v.add(ep, "%q is not a number", e)
			}
		}
		seen[e] = true
	}
}

// quality validates quality rules of an object (f == nil) or a field. Each
// rule carries exactly the parameters of its type:
//
//	not_null, unique     field only; tolerance in [0, 1]
//	accepted_values      field only; values (unique, non-empty)
//	range                numeric field only; min and/or max, min <= max
//	regex                string field only; a valid RE2 pattern
//	row_count            object only; min and/or max >= 0, min <= max
//	freshness            object, or a date/timestamp field; max_age_seconds > 0
//
// Severity is empty (meaning error), "error" or "warning".
func (v *validator) quality(path string, rules []*catalogv1.QualityRule, f *catalogv1.Field) {
	if len(rules) > MaxQualityRules {
		v.add(path, "has %d rules, more than %d", len(rules), MaxQualityRules)
	}
	for i, q := range rules {
		p := fmt.Sprintf("%s[%d]", path, i)
		if q == nil {
			v.add(p, "is empty")
			continue
		}
		v.text(p+".name", q.GetName(), MaxIdentifierLen)
		v.text(p+".description", q.GetDescription(), MaxTextLen)
		switch q.GetSeverity() {
		case "", "error", "warning":
		default:
			v.add(p+".severity", "must be error or warning, got %q", q.GetSeverity())
		}
		// used lists the parameters the type takes; any other that is set
		// is an error (it would be lost on ODCS export).
		var used []string
		onField := func() {
			if f == nil {
				v.add(p+".type", "a %s rule applies to fields, not objects", qualityTypeName(q.GetType()))
			}
		}
		bounds := func(nonNegative bool) {
			if q.Min == nil && q.Max == nil {
				v.add(p+".min", "needs min or max")
			}
			for _, b := range []struct {
				name string
				val  *float64
			}{{"min", q.Min}, {"max", q.Max}} {
				switch {
				case b.val == nil:
				case math.IsNaN(*b.val) || math.IsInf(*b.val, 0):
					v.add(p+"."+b.name, "must be a finite number")
				case nonNegative && *b.val < 0:
					v.add(p+"."+b.name, "must not be negative")
				}
			}
			if q.Min != nil && q.Max != nil && q.GetMin() > q.GetMax() {
				v.add(p+".min", "min %g is greater than max %g", q.GetMin(), q.GetMax())
			}
		}
		switch q.GetType() {
		case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL, catalogv1.QualityRuleType_QUALITY_RULE_TYPE_UNIQUE:
			onField()
			used = []string{"tolerance"}
			if tol := q.GetTolerance(); math.IsNaN(tol) || tol < 0 || tol > 1 {
				v.add(p+".tolerance", "must be between 0 and 1")
			}
		case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ACCEPTED_VALUES:
			onField()
			used = []string{"values"}
			if len(q.GetValues()) == 0 {
				v.add(p+".values", "an accepted_values rule needs values")
			}
			v.values(p+".values", q.GetValues(), catalogv1.LogicalType_LOGICAL_TYPE_STRING)
		case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_RANGE:
			onField()
			used = []string{"min", "max"}
			if f != nil && !isNumeric(f.GetLogicalType()) {
				v.add(p+".type", "a range rule applies to integer, number and decimal fields only")
			}
			bounds(false)
		case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_REGEX:
			onField()
			used = []string{"pattern"}
			if f != nil && f.GetLogicalType() != catalogv1.LogicalType_LOGICAL_TYPE_STRING {
				v.add(p+".type", "a regex rule applies to string fields only")
			}
			if q.GetPattern() == "" {
				v.add(p+".pattern", "a regex rule needs a pattern")
			} else {
				v.pattern(p+".pattern", q.GetPattern())
			}
		case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ROW_COUNT:
			if f != nil {
				v.add(p+".type", "a row_count rule applies to schema objects, not fields")
			}
			used = []string{"min", "max"}
			bounds(true)
		case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_FRESHNESS:
			used = []string{"max_age_seconds"}
			if f != nil && f.GetLogicalType() != catalogv1.LogicalType_LOGICAL_TYPE_TIMESTAMP && f.GetLogicalType() != catalogv1.LogicalType_LOGICAL_TYPE_DATE {
				v.add(p+".type", "a freshness rule applies to objects and date or timestamp fields only")
			}
			if q.GetMaxAgeSeconds() <= 0 {
				v.add(p+".max_age_seconds", "must be positive")
			}
		default:
			v.add(p+".type", "is required (not_null, unique, accepted_values, range, regex, row_count or freshness)")
			continue
		}
		set := map[string]bool{
			"values":          len(q.GetValues()) > 0,
			"min":             q.Min != nil,
			"max":             q.Max != nil,
			"pattern":         q.GetPattern() != "",
			"max_age_seconds": q.GetMaxAgeSeconds() != 0,
			"tolerance":       q.GetTolerance() != 0,
		}
		for _, k := range []string{"values", "min", "max", "pattern", "max_age_seconds", "tolerance"} {
			if set[k] && !slices.Contains(used, k) {
				v.add(p+"."+k, "does not apply to a %s rule", qualityTypeName(q.GetType()))
			}
		}
	}
}

func qualityTypeName(t catalogv1.QualityRuleType) string {
	if n, ok := catalogv1.QualityRuleType_name[int32(t)]; ok && t != 0 {
		return strings.ToLower(strings.TrimPrefix(n, "QUALITY_RULE_TYPE_"))
	}
	return "unspecified"
}
