package contract

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// ExportODCS renders a contract as an ODCS v3.1 YAML document. Keys come in
// a fixed order and only non-default values are written, so equal
// contracts export to identical bytes. Output-only fields (created_at,
// created_by) are not exported.
func ExportODCS(c *catalogv1.Contract) ([]byte, error) {
	if c == nil {
		return nil, fmt.Errorf("odcs: export: nil contract")
	}
	root := &object{}
	root.str("apiVersion", ODCSAPIVersion)
	root.str("kind", ODCSKind)
	root.str("id", c.GetId())
	root.str("name", c.GetName())
	root.str("version", c.GetVersion())
	if s, ok := statusName(c.GetStatus()); ok {
		root.str("status", s)
	}
	root.str("domain", c.GetDomain())
	root.str("dataProduct", c.GetProduct())
	root.str("tenant", c.GetTenant())
	root.strs("tags", c.GetTags())
	desc := &object{}
	desc.str("purpose", c.GetPurpose())
	desc.str("usage", c.GetUsage())
	desc.str("limitations", c.GetLimitations())
	root.obj("description", desc)
	if len(c.GetSchema()) > 0 {
		seq := seqNode()
		for _, o := range c.GetSchema() {
			seq.Content = append(seq.Content, exportObject(o).node())
		}
		root.set("schema", seq)
	}
	if sla := exportSLA(c.GetSla()); len(sla.Content) > 0 {
		root.set("slaProperties", sla)
	}
	root.str("contractCreatedTs", c.GetContractCreatedTs())

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root.node()); err != nil {
		return nil, fmt.Errorf("odcs: export: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("odcs: export: %w", err)
	}
	return buf.Bytes(), nil
}

func statusName(s catalogv1.ContractStatus) (string, bool) {
	return nameOf(statusByName, s)
}

// nameOf finds the ODCS name of an enum value. It scans the map in key
// order: iterating a map directly would make coverage nondeterministic,
// which defeats the fuzzer's input minimization.
func nameOf[V comparable](byName map[string]V, v V) (string, bool) {
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		if byName[name] == v {
			return name, true
		}
	}
	return "", false
}

func exportObject(o *catalogv1.SchemaObject) *object {
	m := &object{}
	m.str("name", o.GetName())
	m.str("physicalName", o.GetPhysicalName())
	m.str("physicalType", o.GetPhysicalType())
	m.str("businessName", o.GetBusinessName())
	m.str("description", o.GetDescription())
	m.strs("tags", o.GetTags())
	m.fields("properties", o.GetProperties())
	m.quality(o.GetQuality())
	return m
}

func (m *object) fields(key string, fs []*catalogv1.Field) {
	if len(fs) == 0 {
		return
	}
	seq := seqNode()
	for _, f := range fs {
		seq.Content = append(seq.Content, exportField(f).node())
	}
	m.set(key, seq)
}

func exportField(f *catalogv1.Field) *object {
	m := &object{}
	m.str("name", f.GetName())
	m.str("businessName", f.GetBusinessName())
	m.str("description", f.GetDescription())
	t := f.GetLogicalType()
	if name, ok := nameOf(logicalTypeByName, t); ok {
		m.str("logicalType", name)
	}
	if t == catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL {
		m.str("logicalType", "number")
	}
	opts := &object{}
	if t == catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL {
		opts.str("format", "decimal")
		opts.int("precision", int64(f.GetPrecision()))
		opts.int("scale", int64(f.GetScale()))
	} else {
		opts.str("format", f.GetFormat())
	}
	opts.float("minimum", f.Minimum)
	opts.float("maximum", f.Maximum)
	if f.MinLength != nil {
		opts.set("minLength", intNode(f.GetMinLength()))
	}
	if f.MaxLength != nil {
		opts.set("maxLength", intNode(f.GetMaxLength()))
	}
	opts.str("pattern", f.GetPattern())
	opts.values("enum", f.GetEnum(), t)
	m.obj("logicalTypeOptions", opts)
	m.str("physicalType", f.GetPhysicalType())
	m.bool("required", f.GetRequired())
	m.bool("unique", f.GetUnique())
	m.bool("primaryKey", f.GetPrimaryKey())
	m.int("primaryKeyPosition", int64(f.GetPrimaryKeyPosition()))
	if cl := f.GetClassification(); cl != catalogv1.Classification_CLASSIFICATION_UNSPECIFIED {
		if name, ok := nameOf(classificationByName, cl); ok {
			m.str("classification", name)
		}
	}
	m.bool("criticalDataElement", f.GetCriticalDataElement())
	m.strs("tags", f.GetTags())
	m.values("examples", f.GetExamples(), t)
	m.fields("properties", f.GetProperties())
	if it := f.GetItems(); it != nil {
		m.set("items", exportField(it).node())
	}
	m.quality(f.GetQuality())
	return m
}

func (m *object) quality(rules []*catalogv1.QualityRule) {
	if len(rules) == 0 {
		return
	}
	seq := seqNode()
	for _, q := range rules {
		seq.Content = append(seq.Content, exportQuality(q).node())
	}
	m.set("quality", seq)
}

// exportQuality writes one rule following the mapping documented at
// qualityRule.
func exportQuality(q *catalogv1.QualityRule) *object {
	m := &object{}
	// type, metric and engine lead; name and description follow them.
	described := false
	describe := func() {
		if !described {
			described = true
			m.str("name", q.GetName())
			m.str("description", q.GetDescription())
		}
	}
	zero := 0.0
	switch q.GetType() {
	case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL, catalogv1.QualityRuleType_QUALITY_RULE_TYPE_UNIQUE:
		m.str("type", "library")
		if q.GetType() == catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL {
			m.str("metric", "nullValues")
		} else {
			m.str("metric", "duplicateValues")
		}
		describe()
		if tol := q.GetTolerance(); tol == 0 {
			m.float("mustBe", &zero)
		} else {
			m.set("mustBeLessOrEqualTo", percentNode(tol))
			m.str("unit", "percent")
		}
	case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ACCEPTED_VALUES:
		m.str("type", "library")
		m.str("metric", "invalidValues")
		describe()
		args := &object{}
		args.values("validValues", q.GetValues(), catalogv1.LogicalType_LOGICAL_TYPE_STRING)
		m.obj("arguments", args)
		m.float("mustBe", &zero)
	case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_REGEX:
		m.str("type", "library")
		m.str("metric", "invalidValues")
		describe()
		args := &object{}
		args.str("pattern", q.GetPattern())
		m.obj("arguments", args)
		m.float("mustBe", &zero)
	case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ROW_COUNT:
		m.str("type", "library")
		m.str("metric", "rowCount")
		describe()
		switch {
		case q.Min != nil && q.Max != nil && q.GetMin() == q.GetMax():
			m.float("mustBe", q.Min)
		case q.Min != nil && q.Max != nil:
			between := seqNode()
			between.Style = yaml.FlowStyle
			between.Content = []*yaml.Node{floatNode(q.GetMin()), floatNode(q.GetMax())}
			m.set("mustBeBetween", between)
		case q.Min != nil:
			m.float("mustBeGreaterOrEqualTo", q.Min)
		default:
			m.float("mustBeLessOrEqualTo", q.Max)
		}
	case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_RANGE:
		m.str("type", "custom")
		m.str("engine", ODCSEngine)
		describe()
		impl := &object{}
		impl.str("type", "range")
		impl.float("minimum", q.Min)
		impl.float("maximum", q.Max)
		m.obj("implementation", impl)
	case catalogv1.QualityRuleType_QUALITY_RULE_TYPE_FRESHNESS:
		m.str("type", "custom")
		m.str("engine", ODCSEngine)
		describe()
		impl := &object{}
		impl.str("type", "freshness")
		impl.int("maxAgeSeconds", q.GetMaxAgeSeconds())
		m.obj("implementation", impl)
	default:
		// An unspecified rule type has no ODCS form; Validate rejects it.
		m.str("type", "text")
	}
	describe()
	m.str("dimension", defaultDimension[q.GetType()])
	m.str("severity", q.GetSeverity())
	return m
}

// slaUnits are tried largest first so that a duration is written in the
// largest unit that divides it.
var slaUnits = []struct {
	name string
	secs int64
}{{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}}

func exportSLA(s *catalogv1.Sla) *yaml.Node {
	seq := seqNode()
	for _, p := range []struct {
		name string
		secs int64
	}{
		{"latency", s.GetMaxFreshnessSeconds()},
		{"frequency", s.GetUpdateFrequencySeconds()},
		{"retention", s.GetRetentionSeconds()},
	} {
		if p.secs == 0 {
			continue
		}
		for _, u := range slaUnits {
			if p.secs%u.secs == 0 {
				m := &object{}
				m.str("property", p.name)
				m.set("value", intNode(p.secs/u.secs))
				m.str("unit", u.name)
				seq.Content = append(seq.Content, m.node())
				break
			}
		}
	}
	return seq
}

// object builds a YAML mapping with keys in insertion order.
type object struct {
	content []*yaml.Node
}

func (m *object) node() *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: m.content}
}

func (m *object) set(key string, v *yaml.Node) {
	m.content = append(m.content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func (m *object) str(key, v string) {
	if v != "" {
		m.set(key, strNode(v))
	}
}

func (m *object) strs(key string, vs []string) {
	if len(vs) == 0 {
		return
	}
	seq := seqNode()
	for _, v := range vs {
		seq.Content = append(seq.Content, strNode(v))
	}
	m.set(key, seq)
}

// values writes enum values or examples: as plain scalars for numeric and
// boolean fields (so 1 stays a number), as strings otherwise.
func (m *object) values(key string, vs []string, t catalogv1.LogicalType) {
	if len(vs) == 0 {
		return
	}
	plain := isNumeric(t) || t == catalogv1.LogicalType_LOGICAL_TYPE_BOOLEAN
	seq := seqNode()
	for _, v := range vs {
		n := strNode(v)
		if plain && !nullLike(v) {
			n.Tag = ""
		}
		seq.Content = append(seq.Content, n)
	}
	m.set(key, seq)
}

// nullLike reports whether a plain scalar v would read back as null.
func nullLike(v string) bool {
	switch v {
	case "", "~", "null", "Null", "NULL":
		return true
	}
	return false
}

func (m *object) bool(key string, v bool) {
	if v {
		m.set(key, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
}

func (m *object) int(key string, v int64) {
	if v != 0 {
		m.set(key, intNode(v))
	}
}

func (m *object) float(key string, v *float64) {
	if v != nil {
		m.set(key, floatNode(*v))
	}
}

func (m *object) obj(key string, o *object) {
	if len(o.content) > 0 {
		m.set(key, o.node())
	}
}

func seqNode() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"} }

func strNode(v string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
	switch {
	case strings.Contains(v, "\n"):
		n.Style = yaml.LiteralStyle
	case yaml11Bool[v]:
		// YAML 1.1 readers (PyYAML, many ODCS tools) take these for
		// booleans; quote them.
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

var yaml11Bool = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "n": true, "N": true, "no": true, "No": true, "NO": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
}

func intNode(v int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v, 10)}
}

// floatNode writes the shortest text that reads back as exactly v; whole
// numbers are written without a fraction.
func floatNode(v float64) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float"}
	switch {
	case math.IsNaN(v):
		n.Value = ".nan"
	case math.IsInf(v, 1):
		n.Value = ".inf"
	case math.IsInf(v, -1):
		n.Value = "-.inf"
	case v == 0 && math.Signbit(v):
		n.Value = "-0.0"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		n.Tag, n.Value = "!!int", strconv.FormatFloat(v, 'f', -1, 64)
	default:
		n.Value = withDot(strconv.FormatFloat(v, 'g', -1, 64))
	}
	return n
}

// withDot makes sure a float's mantissa has a decimal point ("1e+21" →
// "1.0e+21"): YAML 1.1 readers take a float without one for a string.
func withDot(s string) string {
	mant, exp, hasExp := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	if hasExp {
		return mant + "e" + exp
	}
	return mant
}

// percentNode writes a share (0.05) as a percentage (5) in decimal
// notation that reads back, divided by 100, as exactly the same float.
func percentNode(share float64) *yaml.Node {
	if math.IsNaN(share) || math.IsInf(share, 0) {
		return floatNode(share)
	}
	s := strconv.FormatFloat(share, 'e', -1, 64) // d.ddde±XX, shortest
	mant, exp, _ := strings.Cut(s, "e")
	e, _ := strconv.Atoi(exp)
	decimals := 0
	if _, frac, ok := strings.Cut(mant, "."); ok {
		decimals = len(frac)
	}
	decimals = max(0, decimals-e-2)
	r, _ := new(big.Rat).SetString(s)
	r.Mul(r, big.NewRat(100, 1))
	v := r.FloatString(decimals)
	tag := "!!float"
	switch {
	case len(v) > 20:
		// Very large or small: keep the exponent notation, shifted by two.
		v = withDot(mant) + "e" + fmt.Sprintf("%+03d", e+2)
	case !strings.Contains(v, "."):
		tag = "!!int"
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v}
}
