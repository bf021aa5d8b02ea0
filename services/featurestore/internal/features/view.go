package features

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// Event is one record of a view's source reduced to what features need.
type Event struct {
	// EntityKey is the encoded join key values (see EncodeKey).
	EntityKey string
	// EventTime is the record's timestamp_field.
	EventTime time.Time
	// Seq orders events applied for the same entity and event time: the
	// greater Seq was applied later and wins ties (e.g. the stream
	// sequence). Extract leaves it 0 for the caller to set.
	Seq uint64
	// Values has one slot per feature of the view, in order: see the
	// package documentation. Values are shared, never modified.
	Values []*featurestorev1.Value
}

// Feature is a compiled feature of a View.
type Feature struct {
	Name        string
	Type        featurestorev1.ValueType
	Aggregation featurestorev1.AggregationFunction
	// Window is the aggregation window; 0 for field features.
	Window time.Duration
	// InputType is the type of the feature's slot in Event.Values:
	// the feature type for field features and SUM/MIN/MAX/LAST, DOUBLE for
	// AVG, STRING for DISTINCT_COUNT, UNSPECIFIED (always nil) for COUNT and
	// DAYS_SINCE_LAST.
	InputType featurestorev1.ValueType
	// Expr is the parsed expression, nil when the feature reads a field.
	Expr *Expr
	// Path is the split field path (nil with an expression or no input).
	Path []string
}

// Aggregated reports whether the feature is a windowed aggregation.
func (f *Feature) Aggregated() bool {
	return f.Aggregation != featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_UNSPECIFIED
}

// View is a compiled feature view, safe for concurrent use.
type View struct {
	Name   string
	Entity string
	// JoinKeys are the entity's join keys, in order.
	JoinKeys []*featurestorev1.JoinKey
	// TTL is how long a field feature's value stays valid; 0 means forever.
	TTL      time.Duration
	Features []Feature

	keyPaths [][]string
	tsPath   []string
	index    map[string]int
}

// Feature returns the position of the named feature.
func (v *View) Feature(name string) (int, bool) {
	i, ok := v.index[name]
	return i, ok
}

// Compile checks view against entity and prepares it. Errors name the
// offending part; the full rule set lives in package defs.
func Compile(view *featurestorev1.FeatureView, entity *featurestorev1.Entity) (*View, error) {
	if view == nil || entity == nil {
		return nil, errors.New("compile: view and entity are required")
	}
	if view.GetEntity() != entity.GetName() {
		return nil, fmt.Errorf("compile view %q: entity is %q, got entity %q", view.GetName(), view.GetEntity(), entity.GetName())
	}
	v := &View{
		Name:     view.GetName(),
		Entity:   entity.GetName(),
		JoinKeys: entity.GetJoinKeys(),
		TTL:      view.GetTtl().AsDuration(),
		index:    make(map[string]int, len(view.GetFeatures())),
	}
	if len(v.JoinKeys) == 0 {
		return nil, fmt.Errorf("compile view %q: entity %q has no join keys", v.Name, v.Entity)
	}
	if view.GetTtl() != nil && v.TTL < 0 {
		return nil, fmt.Errorf("compile view %q: negative ttl", v.Name)
	}
	for _, k := range v.JoinKeys {
		if k.GetName() == "" || k.GetType() == featurestorev1.ValueType_VALUE_TYPE_UNSPECIFIED {
			return nil, fmt.Errorf("compile view %q: join key %q needs a name and a type", v.Name, k.GetName())
		}
		v.keyPaths = append(v.keyPaths, strings.Split(k.GetName(), "."))
	}
	if view.GetTimestampField() == "" {
		return nil, fmt.Errorf("compile view %q: timestamp_field is required", v.Name)
	}
	v.tsPath = strings.Split(view.GetTimestampField(), ".")
	for i, pf := range view.GetFeatures() {
		f, err := compileFeature(pf)
		if err != nil {
			return nil, fmt.Errorf("compile view %q: feature %q: %w", v.Name, pf.GetName(), err)
		}
		if _, dup := v.index[f.Name]; dup {
			return nil, fmt.Errorf("compile view %q: duplicate feature %q", v.Name, f.Name)
		}
		v.index[f.Name] = i
		v.Features = append(v.Features, f)
	}
	return v, nil
}

func compileFeature(pf *featurestorev1.Feature) (Feature, error) {
	f := Feature{
		Name:        pf.GetName(),
		Type:        pf.GetType(),
		Aggregation: pf.GetAggregation(),
		Window:      pf.GetWindow().AsDuration(),
	}
	if f.Type == featurestorev1.ValueType_VALUE_TYPE_UNSPECIFIED {
		return f, errors.New("type is required")
	}
	const (
		count     = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT
		sum       = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_SUM
		avg       = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_AVG
		minF      = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_MIN
		maxF      = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_MAX
		last      = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_LAST
		distinct  = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DISTINCT_COUNT
		daysSince = featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DAYS_SINCE_LAST
	)
	switch f.Aggregation {
	case featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_UNSPECIFIED:
		if pf.GetWindow() != nil && f.Window != 0 {
			return f, errors.New("window without an aggregation")
		}
		f.InputType = f.Type
	case count, daysSince:
		f.InputType = featurestorev1.ValueType_VALUE_TYPE_UNSPECIFIED
	case avg:
		f.InputType = featurestorev1.ValueType_VALUE_TYPE_DOUBLE
	case distinct:
		f.InputType = featurestorev1.ValueType_VALUE_TYPE_STRING
	case sum, minF, maxF:
		if f.Type != featurestorev1.ValueType_VALUE_TYPE_INT64 && f.Type != featurestorev1.ValueType_VALUE_TYPE_DOUBLE {
			return f, fmt.Errorf("%s needs an int64 or double type", f.Aggregation)
		}
		f.InputType = f.Type
	case last:
		f.InputType = f.Type
	default:
		return f, fmt.Errorf("unknown aggregation %d", f.Aggregation)
	}
	if f.Aggregated() && f.Window <= 0 {
		return f, errors.New("an aggregation needs a positive window")
	}
	if f.InputType == featurestorev1.ValueType_VALUE_TYPE_UNSPECIFIED {
		return f, nil
	}
	if e := pf.GetExpression(); e != "" {
		x, err := ParseExpr(e)
		if err != nil {
			return f, err
		}
		f.Expr = x
		return f, nil
	}
	field := pf.GetField()
	if field == "" {
		field = f.Name
	}
	f.Path = strings.Split(field, ".")
	return f, nil
}

// MaxRecordSize bounds a record Extract accepts.
const MaxRecordSize = 4 << 20

// Extract turns one JSON object into an Event (Seq left 0). It fails only
// when the record is not a JSON object or a join key or the event time is
// missing, null or unparseable.
func (v *View) Extract(record []byte) (Event, error) {
	if len(record) > MaxRecordSize {
		return Event{}, fmt.Errorf("extract: record of %d bytes exceeds %d", len(record), MaxRecordSize)
	}
	dec := json.NewDecoder(bytes.NewReader(record))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return Event{}, fmt.Errorf("extract: record is not a JSON object: %w", err)
	}
	if m == nil {
		return Event{}, errors.New("extract: record is null, want a JSON object")
	}
	return v.ExtractMap(m)
}

// ExtractMap is Extract for an already decoded object (decoded with
// UseNumber, or with float64 numbers at the cost of precision).
func (v *View) ExtractMap(m map[string]any) (Event, error) {
	keys := make([]string, len(v.JoinKeys))
	for i, k := range v.JoinKeys {
		raw := lookupPath(m, v.keyPaths[i])
		if raw == nil {
			return Event{}, fmt.Errorf("extract: join key %q missing or null", k.GetName())
		}
		s, ok := KeyString(Convert(raw, k.GetType()))
		if !ok {
			return Event{}, fmt.Errorf("extract: join key %q: %s is not a valid %s", k.GetName(), describe(raw), typeName(k.GetType()))
		}
		keys[i] = s
	}
	rawTS := lookupPath(m, v.tsPath)
	if rawTS == nil {
		return Event{}, fmt.Errorf("extract: timestamp field %q missing or null", strings.Join(v.tsPath, "."))
	}
	ts, ok := rawTS.(string)
	var t time.Time
	if ok {
		t, ok = ParseTime(ts)
	}
	if !ok {
		return Event{}, fmt.Errorf("extract: timestamp field %q: %s is not an RFC 3339 time or a date", strings.Join(v.tsPath, "."), describe(rawTS))
	}
	ev := Event{EntityKey: EncodeKey(keys), EventTime: t, Values: make([]*featurestorev1.Value, len(v.Features))}
	for i := range v.Features {
		f := &v.Features[i]
		switch {
		case f.InputType == featurestorev1.ValueType_VALUE_TYPE_UNSPECIFIED:
		case f.Expr != nil:
			if r, ok := f.Expr.Eval(m); ok {
				ev.Values[i] = Convert(json.Number(fmt.Sprint(r)), f.InputType)
			}
		default:
			ev.Values[i] = Convert(lookupPath(m, f.Path), f.InputType)
		}
	}
	return ev, nil
}

func describe(raw any) string {
	s := fmt.Sprintf("%v", raw)
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	if _, ok := raw.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return s
}

func typeName(t featurestorev1.ValueType) string {
	return strings.ToLower(strings.TrimPrefix(t.String(), "VALUE_TYPE_"))
}

// Key encoding: values joined with unit separators (0x1f); inside a value,
// 0x1e and 0x1f are escaped as 0x1e followed by the byte, so no two value
// lists share an encoding.
const (
	keySep = '\x1f'
	keyEsc = '\x1e'
)

// EncodeKey encodes join key values (in the entity's join key order) into
// one string, unambiguously: distinct value lists give distinct keys. A
// single value without control characters 0x1e/0x1f encodes as itself.
func EncodeKey(values []string) string {
	n := len(values)
	clean := true
	for _, v := range values {
		n += len(v)
		if strings.IndexByte(v, keySep) >= 0 || strings.IndexByte(v, keyEsc) >= 0 {
			clean = false
		}
	}
	if clean {
		if len(values) == 1 {
			return values[0]
		}
		return strings.Join(values, string(keySep))
	}
	var b strings.Builder
	b.Grow(n + 8)
	for i, v := range values {
		if i > 0 {
			b.WriteByte(keySep)
		}
		for j := 0; j < len(v); j++ {
			if v[j] == keySep || v[j] == keyEsc {
				b.WriteByte(keyEsc)
			}
			b.WriteByte(v[j])
		}
	}
	return b.String()
}

// DecodeKey splits an encoded key back into its values.
func DecodeKey(key string) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case keyEsc:
			if i+1 < len(key) {
				i++
			}
			b.WriteByte(key[i])
		case keySep:
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(key[i])
		}
	}
	return append(out, b.String())
}

// KeyString is the canonical string form of a join key value used in
// entity keys (ValueString); ok is false for null.
func KeyString(v *featurestorev1.Value) (string, bool) { return ValueString(v) }

// KeyFromRow encodes the entity key of a request row given as join key
// name → value. Each value is converted to the join key's type (a string
// "42" serves an int64 key), so a row and a record holding the same keys
// meet. Missing, null or unconvertible keys are errors; keys of other
// entities in the row are ignored.
func KeyFromRow(row map[string]*featurestorev1.Value, entity *featurestorev1.Entity) (string, error) {
	return keyOf(entity, func(name string) (any, bool) {
		v, ok := row[name]
		if !ok || v.GetKind() == nil {
			return nil, false
		}
		return valueRaw(v), true
	})
}

// KeyFromColumns is KeyFromRow for entity i of column-major join keys (see
// EntityColumns).
func KeyFromColumns(cols EntityColumns, i int, entity *featurestorev1.Entity) (string, error) {
	return keyOf(entity, func(name string) (any, bool) {
		c, ok := cols[name]
		switch {
		case !ok:
			return nil, false
		case len(c.GetStrings()) > 0:
			return c.GetStrings()[i], true
		default:
			return c.GetInt64S()[i], true
		}
	})
}

// EntityColumns are a request's join key columns by name.
type EntityColumns map[string]*featurestorev1.JoinKeyColumn

// NewEntityColumns checks column-major join keys and returns them by name
// with the number of entities they hold: every column named once, with
// values in exactly one of its arrays, all of the same length.
func NewEntityColumns(cols []*featurestorev1.JoinKeyColumn) (EntityColumns, int, error) {
	out := make(EntityColumns, len(cols))
	n := -1
	for _, c := range cols {
		if c.GetName() == "" {
			return nil, 0, errors.New("a column has no name")
		}
		if _, dup := out[c.GetName()]; dup {
			return nil, 0, fmt.Errorf("join key %q has two columns", c.GetName())
		}
		ns, ni := len(c.GetStrings()), len(c.GetInt64S())
		if (ns > 0) == (ni > 0) {
			return nil, 0, fmt.Errorf("join key %q: give its values in strings or in int64s, not both or neither", c.GetName())
		}
		if n >= 0 && ns+ni != n {
			return nil, 0, fmt.Errorf("join key %q has %d values, the other columns %d", c.GetName(), ns+ni, n)
		}
		n = ns + ni
		out[c.GetName()] = c
	}
	return out, max(n, 0), nil
}

// keyOf encodes the entity key from the join key values get returns.
func keyOf(entity *featurestorev1.Entity, get func(name string) (any, bool)) (string, error) {
	if len(entity.GetJoinKeys()) == 0 {
		return "", fmt.Errorf("entity %q has no join keys", entity.GetName())
	}
	keys := make([]string, len(entity.GetJoinKeys()))
	for i, k := range entity.GetJoinKeys() {
		raw, ok := get(k.GetName())
		if !ok {
			return "", fmt.Errorf("join key %q of entity %q missing or null", k.GetName(), entity.GetName())
		}
		s, ok := KeyString(Convert(raw, k.GetType()))
		if !ok {
			return "", fmt.Errorf("join key %q of entity %q: %v is not a valid %s", k.GetName(), entity.GetName(), raw, typeName(k.GetType()))
		}
		keys[i] = s
	}
	return EncodeKey(keys), nil
}
