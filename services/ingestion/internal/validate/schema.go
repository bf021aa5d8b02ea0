package validate

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// Schema is a compiled schema object of a contract. It is immutable and safe
// for concurrent use.
type Schema struct {
	name   string
	root   *object
	pk     []int // top-level field indexes in primary-key order
	pkPos  []int // per top-level field: index into pk + 1, 0 when not a key field
	fields []string
}

// object is a compiled set of properties (the top level or an OBJECT).
type object struct {
	fields []*field
	index  map[string]int
}

// strFormat is a checked Field.format on strings.
type strFormat uint8

const (
	formatNone strFormat = iota
	formatUUID
	formatEmail
)

// field is a compiled catalogv1.Field.
type field struct {
	name     string
	typ      catalogv1.LogicalType
	typeName string
	required bool

	enum     map[string]struct{}
	enumDesc string
	re       *regexp.Regexp
	pattern  string

	min, max       float64
	hasMin, hasMax bool
	minLen, maxLen int64
	hasMinLen      bool
	hasMaxLen      bool

	precision, scale int
	layouts          []string // DATE, TIMESTAMP
	layoutDesc       string
	format           strFormat

	props *object // OBJECT; nil accepts any object
	items *field  // ARRAY; nil accepts any elements

	notNull *quality
	quality []*quality // accepted_values, range, regex
}

// quality is a field-level quality rule checked per record.
type quality struct {
	rule   string // not_null, accepted_values, range, regex
	name   string
	values map[string]struct{}
	desc   string
	re     *regexp.Regexp
	min    float64
	max    float64
	hasMin bool
	hasMax bool
}

// Compile compiles the schema object named object of c ("" means the
// first). It fails when the object does not exist or a pattern does not
// compile.
func Compile(c *catalogv1.Contract, object string) (*Schema, error) {
	if c == nil {
		return nil, fmt.Errorf("validate: nil contract")
	}
	var obj *catalogv1.SchemaObject
	for _, o := range c.GetSchema() {
		if object == "" || o.GetName() == object {
			obj = o
			break
		}
	}
	if obj == nil {
		if object == "" {
			return nil, fmt.Errorf("validate: contract %s %s has no schema object", c.GetId(), c.GetVersion())
		}
		return nil, fmt.Errorf("validate: contract %s %s has no schema object %q", c.GetId(), c.GetVersion(), object)
	}
	root, err := compileObject(obj.GetProperties(), obj.GetName())
	if err != nil {
		return nil, err
	}
	s := &Schema{name: obj.GetName(), root: root, pkPos: make([]int, len(root.fields))}
	type key struct{ idx, pos int }
	var keys []key
	for i, f := range obj.GetProperties() {
		s.fields = append(s.fields, f.GetName())
		if f.GetPrimaryKey() {
			keys = append(keys, key{i, int(f.GetPrimaryKeyPosition())})
		}
	}
	// Position 0 (unset) sorts after the numbered positions, in document order.
	slices.SortStableFunc(keys, func(a, b key) int {
		pa, pb := a.pos, b.pos
		if pa <= 0 {
			pa = math.MaxInt
		}
		if pb <= 0 {
			pb = math.MaxInt
		}
		return pa - pb
	})
	for _, k := range keys {
		s.pk = append(s.pk, k.idx)
		s.pkPos[k.idx] = len(s.pk)
	}
	return s, nil
}

// Name is the name of the compiled schema object.
func (s *Schema) Name() string { return s.name }

// PrimaryKey lists the primary-key field names in key order.
func (s *Schema) PrimaryKey() []string {
	out := make([]string, len(s.pk))
	for i, idx := range s.pk {
		out[i] = s.fields[idx]
	}
	return out
}

// CheckEventTimeField reports whether name is a top-level DATE or TIMESTAMP
// field, the condition for Options.EventTimeField.
func (s *Schema) CheckEventTimeField(name string) error {
	_, err := s.eventField(name)
	return err
}

func (s *Schema) eventField(name string) (int, error) {
	i, ok := s.root.index[name]
	if !ok {
		return -1, fmt.Errorf("event time field %q is not a top-level field of %s", name, s.name)
	}
	switch s.root.fields[i].typ {
	case catalogv1.LogicalType_LOGICAL_TYPE_DATE, catalogv1.LogicalType_LOGICAL_TYPE_TIMESTAMP:
		return i, nil
	}
	return -1, fmt.Errorf("event time field %q is %s, not a date or timestamp", name, s.root.fields[i].typeName)
}

func compileObject(props []*catalogv1.Field, path string) (*object, error) {
	o := &object{index: make(map[string]int, len(props))}
	for _, p := range props {
		f, err := compileField(p, path+"."+p.GetName())
		if err != nil {
			return nil, err
		}
		if _, dup := o.index[f.name]; dup {
			return nil, fmt.Errorf("validate: %s: duplicate field name", path+"."+p.GetName())
		}
		o.index[f.name] = len(o.fields)
		o.fields = append(o.fields, f)
	}
	return o, nil
}

var typeNames = map[catalogv1.LogicalType]string{
	catalogv1.LogicalType_LOGICAL_TYPE_UNSPECIFIED: "any value",
	catalogv1.LogicalType_LOGICAL_TYPE_STRING:      "a string",
	catalogv1.LogicalType_LOGICAL_TYPE_INTEGER:     "an integer",
	catalogv1.LogicalType_LOGICAL_TYPE_NUMBER:      "a number",
	catalogv1.LogicalType_LOGICAL_TYPE_BOOLEAN:     "a boolean",
	catalogv1.LogicalType_LOGICAL_TYPE_DATE:        "a date string",
	catalogv1.LogicalType_LOGICAL_TYPE_TIMESTAMP:   "a timestamp string",
	catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL:     "a decimal (number or string)",
	catalogv1.LogicalType_LOGICAL_TYPE_ARRAY:       "an array",
	catalogv1.LogicalType_LOGICAL_TYPE_OBJECT:      "an object",
}

func compileField(p *catalogv1.Field, path string) (*field, error) {
	f := &field{
		name:      p.GetName(),
		typ:       p.GetLogicalType(),
		required:  p.GetRequired() || p.GetPrimaryKey(),
		precision: int(p.GetPrecision()),
		scale:     int(p.GetScale()),
	}
	f.typeName = typeNames[f.typ]
	if f.typeName == "" {
		f.typeName = "any value"
	}
	if len(p.GetEnum()) > 0 {
		f.enum = make(map[string]struct{}, len(p.GetEnum()))
		for _, v := range p.GetEnum() {
			f.enum[v] = struct{}{}
		}
		f.enumDesc = describeList(p.GetEnum())
	}
	if p.GetPattern() != "" {
		re, err := regexp.Compile(p.GetPattern())
		if err != nil {
			return nil, fmt.Errorf("validate: %s: pattern: %w", path, err)
		}
		f.re, f.pattern = re, p.GetPattern()
	}
	if p.Minimum != nil {
		f.min, f.hasMin = p.GetMinimum(), true
	}
	if p.Maximum != nil {
		f.max, f.hasMax = p.GetMaximum(), true
	}
	if p.MinLength != nil {
		f.minLen, f.hasMinLen = p.GetMinLength(), true
	}
	if p.MaxLength != nil {
		f.maxLen, f.hasMaxLen = p.GetMaxLength(), true
	}
	switch f.typ {
	case catalogv1.LogicalType_LOGICAL_TYPE_DATE:
		f.layouts, f.layoutDesc = timeLayouts(p.GetFormat(), true)
	case catalogv1.LogicalType_LOGICAL_TYPE_TIMESTAMP:
		f.layouts, f.layoutDesc = timeLayouts(p.GetFormat(), false)
	case catalogv1.LogicalType_LOGICAL_TYPE_STRING:
		switch strings.ToLower(p.GetFormat()) {
		case "uuid":
			f.format = formatUUID
		case "email":
			f.format = formatEmail
		}
	case catalogv1.LogicalType_LOGICAL_TYPE_OBJECT:
		if len(p.GetProperties()) > 0 {
			props, err := compileObject(p.GetProperties(), path)
			if err != nil {
				return nil, err
			}
			f.props = props
		}
	case catalogv1.LogicalType_LOGICAL_TYPE_ARRAY:
		if p.GetItems() != nil {
			items, err := compileField(p.GetItems(), path+"[]")
			if err != nil {
				return nil, err
			}
			items.required = false // elements are checked for null separately
			f.items = items
		}
	}
	for _, q := range p.GetQuality() {
		if q.GetTolerance() != 0 {
			continue
		}
		if sev := strings.ToLower(q.GetSeverity()); sev != "" && sev != "error" {
			continue
		}
		c := &quality{name: q.GetName()}
		switch q.GetType() {
		case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL:
			c.rule = "not_null"
			f.notNull = c
			continue
		case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ACCEPTED_VALUES:
			c.rule = "accepted_values"
			c.values = make(map[string]struct{}, len(q.GetValues()))
			for _, v := range q.GetValues() {
				c.values[v] = struct{}{}
			}
			c.desc = describeList(q.GetValues())
		case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_RANGE:
			c.rule = "range"
			if q.Min != nil {
				c.min, c.hasMin = q.GetMin(), true
			}
			if q.Max != nil {
				c.max, c.hasMax = q.GetMax(), true
			}
		case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_REGEX:
			c.rule = "regex"
			re, err := regexp.Compile(q.GetPattern())
			if err != nil {
				return nil, fmt.Errorf("validate: %s: quality rule %q: pattern: %w", path, q.GetName(), err)
			}
			c.re, c.desc = re, q.GetPattern()
		default:
			continue
		}
		f.quality = append(f.quality, c)
	}
	return f, nil
}

func describeList(vs []string) string {
	const max = 20
	if len(vs) > max {
		return strings.Join(vs[:max], ", ") + ", …"
	}
	return strings.Join(vs, ", ")
}

// timeLayouts maps Field.format to Go layouts; see the package comment.
func timeLayouts(format string, date bool) ([]string, string) {
	switch {
	case strings.Contains(format, "2006"):
		return []string{format}, format
	case strings.Contains(format, "yyyy") || strings.Contains(format, "YYYY"):
		return []string{javaLayout.Replace(format)}, format
	case date:
		return []string{"2006-01-02"}, "YYYY-MM-DD"
	default:
		return []string{time3339, timeSpace}, "RFC 3339, e.g. 2006-01-02T15:04:05Z"
	}
}

const (
	time3339  = "2006-01-02T15:04:05Z07:00"
	timeSpace = "2006-01-02 15:04:05Z07:00"
)

var javaLayout = strings.NewReplacer(
	"yyyy", "2006", "YYYY", "2006",
	"MM", "01",
	"dd", "02", "DD", "02",
	"HH", "15",
	"mm", "04",
	"ss", "05",
	"SSS", "000",
	"XXX", "Z07:00",
	"Z", "Z0700",
)
