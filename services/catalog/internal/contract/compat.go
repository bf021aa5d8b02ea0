package contract

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// Rule names reported in catalogv1.Violation.Rule. They describe the change
// from the previous version to the candidate.
const (
	RuleFieldAddedRequired   = "field_added_required"
	RuleFieldRemoved         = "field_removed"
	RuleOptionalMadeRequired = "optional_made_required"
	RuleRequiredMadeOptional = "required_made_optional"
	RuleTypeChanged          = "type_changed"
	RuleTypeNarrowed         = "type_narrowed"
	RuleTypeWidened          = "type_widened"
	RuleItemsTypeChanged     = "items_type_changed"
	RuleEnumNarrowed         = "enum_narrowed"
	RuleEnumWidened          = "enum_widened"
	RuleRangeNarrowed        = "range_narrowed"
	RuleRangeWidened         = "range_widened"
	RuleLengthNarrowed       = "length_narrowed"
	RuleLengthWidened        = "length_widened"
	RulePatternChanged       = "pattern_changed"
	RuleUniqueAdded          = "unique_added"
	RuleUniqueRemoved        = "unique_removed"
	RulePrimaryKeyChanged    = "primary_key_changed"
	RuleObjectRemoved        = "object_removed"
)

const (
	absent            = "(absent)"
	unbounded         = "(unbounded)"
	anyValue          = "(any)"
	maxIntegerDigits  = 19 // digits of the largest int64
	directionBackward = direction(true)
	directionForward  = direction(false)
)

// direction says which side reads: backward means the candidate reads data
// written under the previous version, forward the previous reads the
// candidate's data.
type direction bool

// Check reports every incompatibility of candidate with the earlier versions
// of the same major (history, oldest first) under mode:
//
//   - BACKWARD (and UNSPECIFIED): the candidate can read data written under
//     the latest previous version;
//   - FORWARD: the latest previous version can read data written under the
//     candidate;
//   - FULL: both;
//   - *_TRANSITIVE: the same against every version in history;
//   - NONE: nothing is checked.
//
// Violations are sorted by against_version (semver precedence), field and
// rule. An empty result means compatible.
func Check(mode catalogv1.CompatibilityMode, candidate *catalogv1.Contract, history []*catalogv1.Contract) []*catalogv1.Violation {
	if candidate == nil || len(history) == 0 || mode == catalogv1.CompatibilityMode_COMPATIBILITY_MODE_NONE {
		return nil
	}
	var backward, forward, transitive bool
	switch mode {
	case catalogv1.CompatibilityMode_COMPATIBILITY_MODE_BACKWARD_TRANSITIVE:
		backward, transitive = true, true
	case catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FORWARD:
		forward = true
	case catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FORWARD_TRANSITIVE:
		forward, transitive = true, true
	case catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FULL:
		backward, forward = true, true
	case catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FULL_TRANSITIVE:
		backward, forward, transitive = true, true, true
	default: // BACKWARD, UNSPECIFIED and values unknown to this build
		backward = true
	}
	against := history[len(history)-1:]
	if transitive {
		against = history
	}
	seen := map[violationKey]bool{}
	var out []*catalogv1.Violation
	add := func(dir direction, prev *catalogv1.Contract, probs []problem) {
		for _, p := range probs {
			v := p.violation(dir, prev.GetVersion())
			if v == nil {
				continue
			}
			k := violationKey{v.AgainstVersion, v.Field, v.Rule, v.OldValue, v.NewValue}
			if seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, v)
		}
	}
	for _, prev := range against {
		if prev == nil {
			continue
		}
		if backward {
			add(directionBackward, prev, canRead(candidate, prev))
		}
		if forward {
			add(directionForward, prev, canRead(prev, candidate))
		}
	}
	SortViolations(out)
	return out
}

type violationKey struct{ against, field, rule, prev, cand string }

// SortViolations orders violations by against_version (semver precedence,
// then text), field, rule, old and new value and description, so that a
// result never depends on map iteration or input order.
func SortViolations(vs []*catalogv1.Violation) {
	slices.SortStableFunc(vs, func(a, b *catalogv1.Violation) int {
		if a.AgainstVersion != b.AgainstVersion {
			if c, err := CompareVersions(a.AgainstVersion, b.AgainstVersion); err == nil && c != 0 {
				return c
			}
			return strings.Compare(a.AgainstVersion, b.AgainstVersion)
		}
		return cmp.Or(
			strings.Compare(a.Field, b.Field),
			strings.Compare(a.Rule, b.Rule),
			strings.Compare(a.OldValue, b.OldValue),
			strings.Compare(a.NewValue, b.NewValue),
			strings.Compare(a.Description, b.Description),
		)
	})
}

// problemKind is an incompatibility seen from the reader: what the reader
// expects that the writer does not guarantee.
type problemKind int

const (
	probMissingField  problemKind = iota // reader requires a field the writer lacks
	probRequired                         // reader requires a field the writer has optional
	probType                             // reader's type does not accept the writer's values
	probItemsType                        // same, for array items
	probEnum                             // writer may produce values outside the reader's enum
	probMinimum                          // writer's lower bound is below the reader's
	probMaximum                          // writer's upper bound is above the reader's
	probMinLength                        // writer's minimum length is below the reader's
	probMaxLength                        // writer's maximum length is above the reader's
	probPattern                          // reader has a pattern the writer does not share
	probUnique                           // reader demands uniqueness the writer did not promise
	probPrimaryKey                       // reader's primary key differs from the writer's
	probObjectMissing                    // reader has an object the writer lacks
	probObjectUnknown                    // writer has an object the reader lacks
)

// problem is one finding of canRead; reader and writer are the two sides'
// values rendered for humans.
type problem struct {
	path           string
	kind           problemKind
	reader, writer string
	// narrowing: for probType, the writer's type would accept the reader's
	// values (the reader is strictly narrower).
	narrowing bool
}

// canRead reports every reason why a consumer using reader could fail on
// data produced under writer. Schema objects and fields match by name
// (first occurrence wins when names repeat in an invalid contract).
func canRead(reader, writer *catalogv1.Contract) []problem {
	var probs []problem
	wobjs := map[string]*catalogv1.SchemaObject{}
	for _, o := range writer.GetSchema() {
		if _, dup := wobjs[o.GetName()]; !dup {
			wobjs[o.GetName()] = o
		}
	}
	robjs := map[string]bool{}
	for _, r := range reader.GetSchema() {
		if robjs[r.GetName()] {
			continue
		}
		robjs[r.GetName()] = true
		w, ok := wobjs[r.GetName()]
		if !ok {
			probs = append(probs, problem{path: r.GetName(), kind: probObjectMissing, reader: "object", writer: absent})
			continue
		}
		probs = canReadFields(probs, r.GetName(), r.GetProperties(), w.GetProperties())
	}
	for _, w := range writer.GetSchema() {
		if !robjs[w.GetName()] {
			robjs[w.GetName()] = true
			probs = append(probs, problem{path: w.GetName(), kind: probObjectUnknown, reader: absent, writer: "object"})
		}
	}
	return probs
}

// canReadFields compares the properties of one object (or object field).
// Writer fields unknown to the reader are ignored: readers skip them.
func canReadFields(probs []problem, path string, reader, writer []*catalogv1.Field) []problem {
	wf := map[string]*catalogv1.Field{}
	for _, f := range writer {
		if _, dup := wf[f.GetName()]; !dup {
			wf[f.GetName()] = f
		}
	}
	wUnique := soloPrimaryKey(writer)
	seen := map[string]bool{}
	for _, r := range reader {
		if seen[r.GetName()] {
			continue
		}
		seen[r.GetName()] = true
		p := join(path, r.GetName())
		w, ok := wf[r.GetName()]
		if !ok {
			if r.GetRequired() {
				probs = append(probs, problem{path: p, kind: probMissingField, reader: "required " + typeString(r), writer: absent})
			}
			continue
		}
		if r.GetRequired() && !w.GetRequired() {
			probs = append(probs, problem{path: p, kind: probRequired, reader: "required", writer: "optional"})
		}
		if r.GetUnique() && !w.GetUnique() && w.GetName() != wUnique {
			probs = append(probs, problem{path: p, kind: probUnique, reader: "unique", writer: "not unique"})
		}
		probs = canReadValue(probs, p, r, w, false)
	}
	rpk, wpk := primaryKey(reader), primaryKey(writer)
	if len(rpk) > 0 && !slices.Equal(rpk, wpk) {
		probs = append(probs, problem{path: path, kind: probPrimaryKey, reader: keyString(rpk), writer: keyString(wpk)})
	}
	return probs
}

// canReadValue compares what values the two fields admit: type, nested
// structure, enum, range, length and pattern.
func canReadValue(probs []problem, path string, r, w *catalogv1.Field, item bool) []problem {
	if !accepts(r, w) {
		kind := probType
		if item {
			kind = probItemsType
		}
		return append(probs, problem{path: path, kind: kind, reader: typeString(r), writer: typeString(w), narrowing: accepts(w, r)})
	}
	switch {
	case r.GetLogicalType() == catalogv1.LogicalType_LOGICAL_TYPE_OBJECT && w.GetLogicalType() == catalogv1.LogicalType_LOGICAL_TYPE_OBJECT:
		probs = canReadFields(probs, path, r.GetProperties(), w.GetProperties())
	case r.GetLogicalType() == catalogv1.LogicalType_LOGICAL_TYPE_ARRAY && w.GetLogicalType() == catalogv1.LogicalType_LOGICAL_TYPE_ARRAY:
		if r.GetItems() != nil {
			if w.GetItems() == nil {
				probs = append(probs, problem{path: path + "[]", kind: probItemsType, reader: typeString(r.GetItems()), writer: anyValue})
			} else {
				probs = canReadValue(probs, path+"[]", r.GetItems(), w.GetItems(), true)
			}
		}
	}
	if len(r.GetEnum()) > 0 {
		if len(w.GetEnum()) == 0 {
			probs = append(probs, problem{path: path, kind: probEnum, reader: strings.Join(r.GetEnum(), ", "), writer: anyValue})
		} else {
			allowed := map[string]bool{}
			for _, v := range r.GetEnum() {
				allowed[v] = true
			}
			var extra []string
			for _, v := range w.GetEnum() {
				if !allowed[v] {
					extra = append(extra, v)
				}
			}
			if len(extra) > 0 {
				probs = append(probs, problem{path: path, kind: probEnum, reader: strings.Join(r.GetEnum(), ", "), writer: strings.Join(w.GetEnum(), ", ")})
			}
		}
	}
	if r.Minimum != nil && (w.Minimum == nil || w.GetMinimum() < r.GetMinimum()) {
		probs = append(probs, problem{path: path, kind: probMinimum, reader: floatBound(r.Minimum), writer: floatBound(w.Minimum)})
	}
	if r.Maximum != nil && (w.Maximum == nil || w.GetMaximum() > r.GetMaximum()) {
		probs = append(probs, problem{path: path, kind: probMaximum, reader: floatBound(r.Maximum), writer: floatBound(w.Maximum)})
	}
	// A missing minimum length is 0: every string has length >= 0.
	if r.GetMinLength() > 0 && w.GetMinLength() < r.GetMinLength() {
		probs = append(probs, problem{path: path, kind: probMinLength, reader: intBound(r.MinLength), writer: intBound(w.MinLength)})
	}
	if r.MaxLength != nil && (w.MaxLength == nil || w.GetMaxLength() > r.GetMaxLength()) {
		probs = append(probs, problem{path: path, kind: probMaxLength, reader: intBound(r.MaxLength), writer: intBound(w.MaxLength)})
	}
	if r.GetPattern() != "" && r.GetPattern() != w.GetPattern() {
		probs = append(probs, problem{path: path, kind: probPattern, reader: r.GetPattern(), writer: orNone(w.GetPattern())})
	}
	return probs
}

// accepts reports whether every value valid for the writer's type is valid
// for the reader's type. Same types are accepted (decimals when the reader's
// precision and scale hold the writer's); integer and decimal widen to
// number; integer widens to a decimal with at least 19 integer digits.
// Nothing widens to string, and date does not widen to timestamp: a reader
// parsing a timestamp fails on a bare date.
func accepts(r, w *catalogv1.Field) bool {
	rt, wt := r.GetLogicalType(), w.GetLogicalType()
	switch {
	case rt == wt && rt == catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL:
		return decimalHolds(r.GetPrecision(), r.GetScale(), w.GetPrecision(), w.GetScale())
	case rt == wt:
		return true
	case rt == catalogv1.LogicalType_LOGICAL_TYPE_NUMBER:
		return wt == catalogv1.LogicalType_LOGICAL_TYPE_INTEGER || wt == catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL
	case rt == catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL && wt == catalogv1.LogicalType_LOGICAL_TYPE_INTEGER:
		return r.GetPrecision() == 0 || int64(r.GetPrecision())-int64(r.GetScale()) >= maxIntegerDigits
	}
	return false
}

// decimalHolds reports whether decimal(rp,rs) holds every decimal(wp,ws)
// value: at least as many fractional digits and as many integer digits.
// Precision 0 means unbounded.
func decimalHolds(rp, rs, wp, ws int32) bool {
	if rp == 0 {
		return true
	}
	if wp == 0 {
		return false
	}
	return rs >= ws && int64(rp)-int64(rs) >= int64(wp)-int64(ws)
}

// soloPrimaryKey returns the name of the field that is the whole primary
// key of the list (so it is unique), or "" when there is none or the key is
// composite.
func soloPrimaryKey(fs []*catalogv1.Field) string {
	name, n := "", 0
	for _, f := range fs {
		if f.GetPrimaryKey() {
			name, n = f.GetName(), n+1
		}
	}
	if n != 1 {
		return ""
	}
	return name
}

// primaryKey lists the primary-key field names in key order (position,
// then declaration order).
func primaryKey(fs []*catalogv1.Field) []string {
	type col struct {
		name string
		pos  int32
		idx  int
	}
	var cols []col
	for i, f := range fs {
		if f.GetPrimaryKey() {
			cols = append(cols, col{f.GetName(), f.GetPrimaryKeyPosition(), i})
		}
	}
	slices.SortFunc(cols, func(a, b col) int { return cmp.Or(cmp.Compare(a.pos, b.pos), cmp.Compare(a.idx, b.idx)) })
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return names
}

func keyString(k []string) string {
	if len(k) == 0 {
		return "(none)"
	}
	return "(" + strings.Join(k, ", ") + ")"
}

// TypeString renders a field's type for messages: "integer",
// "decimal(10,2)", "array<string>".
func typeString(f *catalogv1.Field) string {
	switch f.GetLogicalType() {
	case catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL:
		if f.GetPrecision() == 0 {
			return "decimal"
		}
		return fmt.Sprintf("decimal(%d,%d)", f.GetPrecision(), f.GetScale())
	case catalogv1.LogicalType_LOGICAL_TYPE_ARRAY:
		if f.GetItems() != nil {
			return "array<" + typeString(f.GetItems()) + ">"
		}
	}
	return logicalTypeName(f.GetLogicalType())
}

func logicalTypeName(t catalogv1.LogicalType) string {
	if t == catalogv1.LogicalType_LOGICAL_TYPE_UNSPECIFIED {
		return "unspecified"
	}
	if n, ok := catalogv1.LogicalType_name[int32(t)]; ok {
		return strings.ToLower(strings.TrimPrefix(n, "LOGICAL_TYPE_"))
	}
	return strconv.Itoa(int(t))
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func floatBound(v *float64) string {
	if v == nil {
		return unbounded
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

func intBound(v *int64) string {
	if v == nil {
		return unbounded
	}
	return strconv.FormatInt(*v, 10)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// violation renders a problem from the perspective previous → candidate.
// It returns nil for findings that are not breaking in that direction
// (an object the candidate adds).
func (p problem) violation(dir direction, against string) *catalogv1.Violation {
	// old is the previous version's side, new the candidate's.
	prev, cand := p.writer, p.reader
	if dir == directionForward {
		prev, cand = p.reader, p.writer
	}
	v := &catalogv1.Violation{Field: p.path, OldValue: prev, NewValue: cand, AgainstVersion: against}
	bw := dir == directionBackward
	pick := func(backward, forward string) string {
		if bw {
			return backward
		}
		return forward
	}
	switch p.kind {
	case probObjectMissing, probObjectUnknown:
		// The object exists only in the previous version when the reader
		// (forward) or the writer (backward) is the previous one. Objects
		// the candidate adds break nobody.
		if (p.kind == probObjectMissing) == bw {
			return nil
		}
		v.Rule = RuleObjectRemoved
		v.Description = fmt.Sprintf("object %s was removed; consumers of %s read it", p.path, against)
	case probMissingField:
		v.Rule = pick(RuleFieldAddedRequired, RuleFieldRemoved)
		v.Description = pick(
			fmt.Sprintf("required field %s was added; data written under %s does not have it", p.path, against),
			fmt.Sprintf("field %s was removed; readers of %s require it", p.path, against))
	case probRequired:
		v.Rule = pick(RuleOptionalMadeRequired, RuleRequiredMadeOptional)
		v.Description = pick(
			fmt.Sprintf("%s is required now but optional in %s; older data may lack it", p.path, against),
			fmt.Sprintf("%s is optional now but required in %s; its readers expect a value", p.path, against))
	case probType, probItemsType:
		switch {
		case p.kind == probItemsType:
			v.Rule = RuleItemsTypeChanged
		case p.narrowing:
			v.Rule = pick(RuleTypeNarrowed, RuleTypeWidened)
		default:
			v.Rule = RuleTypeChanged
		}
		v.Description = pick(
			fmt.Sprintf("type of %s changed from %s to %s, which cannot hold every value written under %s", p.path, prev, cand, against),
			fmt.Sprintf("type of %s changed from %s to %s; readers of %s cannot read every new value", p.path, prev, cand, against))
	case probEnum:
		v.Rule = pick(RuleEnumNarrowed, RuleEnumWidened)
		v.Description = pick(
			fmt.Sprintf("allowed values of %s no longer include values written under %s", p.path, against),
			fmt.Sprintf("%s may now hold values that readers of %s reject", p.path, against))
	case probMinimum, probMaximum:
		v.Rule = pick(RuleRangeNarrowed, RuleRangeWidened)
		bound := "minimum"
		if p.kind == probMaximum {
			bound = "maximum"
		}
		v.Description = fmt.Sprintf("%s of %s changed from %s to %s", bound, p.path, prev, cand)
	case probMinLength, probMaxLength:
		v.Rule = pick(RuleLengthNarrowed, RuleLengthWidened)
		bound := "minimum length"
		if p.kind == probMaxLength {
			bound = "maximum length"
		}
		v.Description = fmt.Sprintf("%s of %s changed from %s to %s", bound, p.path, prev, cand)
	case probPattern:
		v.Rule = RulePatternChanged
		v.Description = fmt.Sprintf("pattern of %s changed from %s to %s", p.path, prev, cand)
	case probUnique:
		v.Rule = pick(RuleUniqueAdded, RuleUniqueRemoved)
		v.Description = pick(
			fmt.Sprintf("%s must be unique now; data written under %s may repeat values", p.path, against),
			fmt.Sprintf("%s is no longer unique; readers of %s rely on unique values", p.path, against))
	case probPrimaryKey:
		v.Rule = RulePrimaryKeyChanged
		v.Description = fmt.Sprintf("primary key of %s changed from %s to %s", p.path, prev, cand)
	default:
		return nil
	}
	return v
}
