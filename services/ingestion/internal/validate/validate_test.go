package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"google.golang.org/protobuf/proto"
)

type lt = catalogv1.LogicalType

const (
	tString    = catalogv1.LogicalType_LOGICAL_TYPE_STRING
	tInteger   = catalogv1.LogicalType_LOGICAL_TYPE_INTEGER
	tNumber    = catalogv1.LogicalType_LOGICAL_TYPE_NUMBER
	tBoolean   = catalogv1.LogicalType_LOGICAL_TYPE_BOOLEAN
	tDate      = catalogv1.LogicalType_LOGICAL_TYPE_DATE
	tTimestamp = catalogv1.LogicalType_LOGICAL_TYPE_TIMESTAMP
	tDecimal   = catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL
	tArray     = catalogv1.LogicalType_LOGICAL_TYPE_ARRAY
	tObject    = catalogv1.LogicalType_LOGICAL_TYPE_OBJECT
)

func fld(name string, typ lt, opts ...func(*catalogv1.Field)) *catalogv1.Field {
	f := &catalogv1.Field{Name: name, LogicalType: typ}
	for _, o := range opts {
		o(f)
	}
	return f
}

func required(f *catalogv1.Field) { f.Required = true }
func pk(pos int32) func(*catalogv1.Field) {
	return func(f *catalogv1.Field) { f.Required, f.PrimaryKey, f.PrimaryKeyPosition = true, true, pos }
}
func pattern(p string) func(*catalogv1.Field)  { return func(f *catalogv1.Field) { f.Pattern = p } }
func enum(v ...string) func(*catalogv1.Field)  { return func(f *catalogv1.Field) { f.Enum = v } }
func minimum(v float64) func(*catalogv1.Field) { return func(f *catalogv1.Field) { f.Minimum = &v } }
func maximum(v float64) func(*catalogv1.Field) { return func(f *catalogv1.Field) { f.Maximum = &v } }
func minLen(v int64) func(*catalogv1.Field)    { return func(f *catalogv1.Field) { f.MinLength = &v } }
func maxLen(v int64) func(*catalogv1.Field)    { return func(f *catalogv1.Field) { f.MaxLength = &v } }
func format(v string) func(*catalogv1.Field)   { return func(f *catalogv1.Field) { f.Format = v } }
func decimal(p, s int32) func(*catalogv1.Field) {
	return func(f *catalogv1.Field) { f.Precision, f.Scale = p, s }
}
func props(fs ...*catalogv1.Field) func(*catalogv1.Field) {
	return func(f *catalogv1.Field) { f.Properties = fs }
}
func items(it *catalogv1.Field) func(*catalogv1.Field) {
	return func(f *catalogv1.Field) { f.Items = it }
}
func qual(q *catalogv1.QualityRule) func(*catalogv1.Field) {
	return func(f *catalogv1.Field) { f.Quality = append(f.Quality, q) }
}

func contract(fields ...*catalogv1.Field) *catalogv1.Contract {
	return &catalogv1.Contract{
		Id: "sales.orders", Domain: "sales", Product: "orders", Version: "1.0.0",
		Schema: []*catalogv1.SchemaObject{{Name: "orders", Properties: fields}},
	}
}

// richContract exercises every rule: nested object, array of objects,
// decimal, enum, pattern, formats and a composite key.
func richContract() *catalogv1.Contract {
	return contract(
		fld("order_id", tString, pk(1), pattern(`^O-[0-9]+$`)),
		fld("line_no", tInteger, pk(2), minimum(1)),
		fld("status", tString, enum("new", "shipped")),
		fld("quantity", tInteger, minimum(1), maximum(1000)),
		fld("price", tDecimal, decimal(10, 2), minimum(0)),
		fld("weight", tNumber, maximum(100)),
		fld("paid", tBoolean),
		fld("order_date", tDate),
		fld("created_at", tTimestamp, required),
		fld("note", tString, minLen(2), maxLen(5)),
		fld("customer_id", tString, format("uuid")),
		fld("destination", tObject, required, props(
			fld("country", tString, required, pattern(`^[A-Z]{2}$`)),
			fld("postal_code", tString, required, maxLen(12)),
			fld("city", tString),
		)),
		fld("lines", tArray, maxLen(3), items(fld("line", tObject, props(
			fld("sku", tString, required, pattern(`^SKU-`)),
			fld("qty", tInteger, minimum(1)),
		)))),
		fld("tags", tArray, items(fld("tag", tString))),
	)
}

const validRich = `{"order_id":"O-1","line_no":2,"status":"new","quantity":3,"price":"12.50",` +
	`"weight":1.5,"paid":true,"order_date":"2025-03-01","created_at":"2025-03-01T10:00:00Z",` +
	`"note":"hi","customer_id":"123e4567-e89b-12d3-a456-426614174000",` +
	`"destination":{"country":"DE","postal_code":"10115","city":"Berlin"},` +
	`"lines":[{"sku":"SKU-1","qty":1},{"sku":"SKU-2"}],"tags":["a","b"]}`

func mustCompile(t testing.TB, c *catalogv1.Contract) *Schema {
	t.Helper()
	s, err := Compile(c, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// brief renders violations as "field rule" strings.
func brief(vs []*ingestionv1.RecordViolation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.GetField()+" "+v.GetRule())
	}
	return out
}

// with replaces top-level members of validRich (a nil value deletes the key).
func with(t testing.TB, kv ...any) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(validRich), &m); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(m, k)
			continue
		}
		m[k] = json.RawMessage(kv[i+1].(string))
	}
	b, err := json.Marshal(m) // sorted keys: order must not matter
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestValidateRules(t *testing.T) {
	s := mustCompile(t, richContract())
	tests := []struct {
		name   string
		record string
		want   []string
	}{
		{"valid", validRich, nil},
		{"valid sorted keys", with(t), nil},
		{"string type", with(t, "status", `1`), []string{"status type"}},
		{"enum", with(t, "status", `"lost"`), []string{"status enum"}},
		{"pattern", with(t, "order_id", `"X-1"`), []string{"order_id pattern"}},
		{"integer fraction", with(t, "quantity", `1.5`), []string{"quantity type"}},
		{"integer integral float", with(t, "quantity", `2.0`), nil},
		{"integer exponent", with(t, "quantity", `1e2`), nil},
		{"integer overflow", with(t, "quantity", `9223372036854775808`), []string{"quantity type"}},
		{"integer string", with(t, "quantity", `"3"`), []string{"quantity type"}},
		{"minimum", with(t, "quantity", `0`), []string{"quantity minimum"}},
		{"maximum", with(t, "quantity", `1001`), []string{"quantity maximum"}},
		{"number max", with(t, "weight", `100.5`), []string{"weight maximum"}},
		{"number type", with(t, "weight", `"1"`), []string{"weight type"}},
		{"boolean type", with(t, "paid", `"true"`), []string{"paid type"}},
		{"date ok", with(t, "order_date", `"2024-02-29"`), nil},
		{"date bad", with(t, "order_date", `"2023-02-29"`), []string{"order_date format"}},
		{"date type", with(t, "order_date", `20230101`), []string{"order_date type"}},
		{"timestamp nano", with(t, "created_at", `"2025-03-01T10:00:00.123456789+02:00"`), nil},
		{"timestamp space", with(t, "created_at", `"2025-03-01 10:00:00Z"`), nil},
		{"timestamp no zone", with(t, "created_at", `"2025-03-01T10:00:00"`), []string{"created_at format"}},
		{"timestamp date only", with(t, "created_at", `"2025-03-01"`), []string{"created_at format"}},
		{"decimal number", with(t, "price", `12.5`), nil},
		{"decimal trailing zeros", with(t, "price", `"12.500"`), nil},
		{"decimal scale", with(t, "price", `"12.505"`), []string{"price decimal"}},
		{"decimal precision", with(t, "price", `123456789.1`), []string{"price decimal"}},
		{"decimal max digits", with(t, "price", `"99999999.99"`), nil},
		{"decimal exponent", with(t, "price", `1.25e2`), nil},
		{"decimal exponent scale", with(t, "price", `1.2555e1`), []string{"price decimal"}},
		{"decimal bad string", with(t, "price", `"12,5"`), []string{"price type"}},
		{"decimal exponent string", with(t, "price", `"1e2"`), []string{"price type"}},
		{"decimal minimum", with(t, "price", `"-0.01"`), []string{"price minimum"}},
		{"decimal bool", with(t, "price", `true`), []string{"price type"}},
		{"min_length", with(t, "note", `"a"`), []string{"note min_length"}},
		{"max_length runes", with(t, "note", `"äöüßé"`), nil},
		{"max_length", with(t, "note", `"abcdef"`), []string{"note max_length"}},
		{"uuid", with(t, "customer_id", `"nope"`), []string{"customer_id format"}},
		{"null optional", with(t, "note", `null`), nil},
		{"required missing", with(t, "created_at", nil), []string{"created_at required"}},
		{"required null", with(t, "created_at", `null`), []string{"created_at required"}},
		{"pk missing", with(t, "order_id", nil), []string{"order_id primary_key"}},
		{"pk null", with(t, "line_no", `null`), []string{"line_no primary_key"}},
		{"unknown", with(t, "zzz", `{"a":1}`), []string{"zzz unknown_field"}},
		{"nested", with(t, "destination", `{"country":"de","postal_code":"1234567890123","x":1}`),
			[]string{"destination.country pattern", "destination.postal_code max_length", "destination.x unknown_field"}},
		{"nested missing", with(t, "destination", `{"city":"B"}`),
			[]string{"destination.country required", "destination.postal_code required"}},
		{"object type", with(t, "destination", `"Berlin"`), []string{"destination type"}},
		{"array elements", with(t, "lines", `[{"sku":"SKU-1"},{"qty":0},{"sku":"X"}]`),
			[]string{"lines[1].sku required", "lines[1].qty minimum", "lines[2].sku pattern"}},
		{"array max_length", with(t, "lines", `[{"sku":"SKU-1"},{"sku":"SKU-1"},{"sku":"SKU-1"},{"sku":"SKU-1"}]`),
			[]string{"lines max_length"}},
		{"array null element", with(t, "tags", `["a",null]`), []string{"tags[1] type"}},
		{"array element type", with(t, "tags", `["a",1]`), []string{"tags[1] type"}},
		{"array type", with(t, "tags", `"a"`), []string{"tags type"}},
		{"every violation in schema order", `{"zz":1,"tags":[1],"destination":{},"status":"x","order_id":"bad","line_no":0}`,
			[]string{"order_id pattern", "line_no minimum", "status enum", "created_at required",
				"destination.country required", "destination.postal_code required", "tags[0] type", "zz unknown_field"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Validate([]byte(tc.record), Options{})
			if r.Err != nil {
				t.Fatalf("Err = %v", r.Err)
			}
			if got := brief(r.Violations); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("violations = %q, want %q", got, tc.want)
			}
			for _, v := range r.Violations {
				if v.Description == "" {
					t.Errorf("%s %s: empty description", v.Field, v.Rule)
				}
			}
			if string(r.Record) != tc.record {
				t.Errorf("Record changed without coercion")
			}
		})
	}
}

func TestPatternUnanchored(t *testing.T) {
	s := mustCompile(t, contract(fld("a", tString, pattern(`[0-9]`))))
	if r := s.Validate([]byte(`{"a":"abc1def"}`), Options{}); !r.Valid() {
		t.Errorf("search semantics: %v", brief(r.Violations))
	}
	if r := s.Validate([]byte(`{"a":"abc"}`), Options{}); len(r.Violations) != 1 {
		t.Errorf("no digit accepted")
	}
}

func TestViolationDetails(t *testing.T) {
	s := mustCompile(t, richContract())
	long := strings.Repeat("é", 300) // 600 bytes
	r := s.Validate([]byte(with(t, "status", `"`+long+`"`, "note", `"a\"b\u00e9xy"`)), Options{})
	if len(r.Violations) != 2 {
		t.Fatalf("violations = %v", brief(r.Violations))
	}
	v := r.Violations[0]
	if v.Field != "status" || v.Rule != "enum" || len(v.Value) != 256 || !strings.HasPrefix(long, v.Value) {
		t.Errorf("status violation = %v (value %d bytes)", v, len(v.Value))
	}
	if !strings.Contains(v.Description, "new, shipped") {
		t.Errorf("description %q lacks the enum", v.Description)
	}
	if v := r.Violations[1]; v.Value != `a"béxy` {
		t.Errorf("note value = %q, want unescaped", v.Value)
	}
}

func TestAllowUnknown(t *testing.T) {
	s := mustCompile(t, richContract())
	rec := with(t, "extra", `[1,{"a":2}]`)
	if r := s.Validate([]byte(rec), Options{AllowUnknown: true}); !r.Valid() {
		t.Errorf("AllowUnknown: %v %v", brief(r.Violations), r.Err)
	}
	if r := s.Validate([]byte(rec), Options{}); !reflect.DeepEqual(brief(r.Violations), []string{"extra unknown_field"}) {
		t.Errorf("closed: %v", brief(r.Violations))
	} else if r.Violations[0].Value != `[1,{"a":2}]` {
		t.Errorf("value = %q", r.Violations[0].Value)
	}
}

func TestAwkwardKeys(t *testing.T) {
	s := mustCompile(t, richContract())
	r := s.Validate([]byte(`{"":1,"a.b":2,"destination":{"x]":3}}`), Options{})
	got := brief(r.Violations)
	for _, w := range []string{`[""] unknown_field`, `["a.b"] unknown_field`, `destination["x]"] unknown_field`} {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("%q missing from %q", w, got)
		}
	}
}

func TestMalformed(t *testing.T) {
	s := mustCompile(t, richContract())
	deep := strings.Repeat(`{"a":`, 20) + "1" + strings.Repeat("}", 20)
	many := "{" + strings.TrimSuffix(strings.Repeat(`"k":1,`, 1001), ",") + "}"
	var wide strings.Builder
	wide.WriteString(`{"tags":[`)
	for i := range 1001 {
		if i > 0 {
			wide.WriteByte(',')
		}
		fmt.Fprintf(&wide, `{"k%d":1}`, i)
	}
	wide.WriteString("]}")
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"spaces", "  "},
		{"not json", "hello"},
		{"array", `[{"order_id":"O-1"}]`},
		{"string", `"x"`},
		{"null", `null`},
		{"truncated", `{"order_id":"O-1"`},
		{"trailing", `{} {}`},
		{"trailing comma", `{"a":1,}`},
		{"bad utf8 in string", "{\"note\":\"\xff\"}"},
		{"bad utf8 in key", "{\"\xc3\x28\":1}"},
		{"bad utf8 outside", "{\"note\":\"a\"\xff}"},
		{"control char", "{\"note\":\"a\tb\"}"},
		{"bad escape", `{"note":"\x"}`},
		{"bad number", `{"quantity":01}`},
		{"bad number 2", `{"quantity":1.}`},
		{"bad number 3", `{"quantity":-}`},
		{"bad literal", `{"paid":tru}`},
		{"duplicate key", `{"note":"ab","note":"cd"}`},
		{"deep", deep},
		{"deep arrays", `{"tags":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + "}"},
		{"too many keys", many},
		{"too many nested keys", wide.String()},
		{"missing colon", `{"a" 1}`},
		{"unquoted key", `{a:1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Validate([]byte(tc.in), Options{})
			if !errors.Is(r.Err, ErrMalformed) {
				t.Fatalf("Err = %v, want ErrMalformed", r.Err)
			}
			if r.Violations != nil || r.Record != nil {
				t.Errorf("malformed record has violations %v / record", brief(r.Violations))
			}
			if json.Valid([]byte(tc.in)) && !strings.Contains(tc.name, "deep") && !strings.Contains(tc.name, "many") &&
				tc.name != "duplicate key" && !strings.Contains(tc.name, "utf8") && !strings.HasPrefix(tc.in, "[") && !strings.HasPrefix(tc.in, `"`) && tc.in != "null" {
				t.Errorf("input is valid JSON for encoding/json but rejected: %v", r.Err)
			}
		})
	}
	// Limits are configurable.
	if r := s.Validate([]byte(deep), Options{MaxDepth: 30, AllowUnknown: true}); r.Err != nil {
		t.Errorf("MaxDepth 30: %v", r.Err)
	}
	if r := s.Validate([]byte(many), Options{MaxFields: 2000, AllowUnknown: true}); r.Err != nil {
		t.Errorf("MaxFields 2000: %v", r.Err)
	}
}

func TestEscapes(t *testing.T) {
	s := mustCompile(t, contract(fld("k", tString, pk(1)), fld("v", tString, enum("é😀"))))
	r := s.Validate([]byte(`{"k":"a\u00e9\n\/","v":"\u00e9\ud83d\ude00"}`), Options{})
	if !r.Valid() {
		t.Fatalf("%v %v", r.Err, brief(r.Violations))
	}
	if r.PrimaryKey[0] != "aé\n/" {
		t.Errorf("pk = %q", r.PrimaryKey[0])
	}
	// A lone surrogate becomes U+FFFD, as encoding/json does.
	r = s.Validate([]byte(`{"k":"\ud800x","v":"é😀"}`), Options{})
	if !r.Valid() || r.PrimaryKey[0] != "\uFFFDx" {
		t.Errorf("lone surrogate: %q %v", r.PrimaryKey, r.Err)
	}
}

func TestPrimaryKeyOrder(t *testing.T) {
	c := contract(
		fld("b", tInteger, pk(2)),
		fld("x", tString),
		fld("a", tString, pk(1)),
		fld("c", tBoolean, pk(0)), // unnumbered: after numbered ones
	)
	s := mustCompile(t, c)
	if got := s.PrimaryKey(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("Schema.PrimaryKey = %v", got)
	}
	for _, rec := range []string{
		`{"a":"k1","b":7,"c":true,"x":"y"}`,
		`{"c":true,"b":7,"x":"y","a":"k1"}`,
		`{"b":7,"a":"k1","c":true}`,
	} {
		r := s.Validate([]byte(rec), Options{})
		if !r.Valid() {
			t.Fatalf("%s: %v %v", rec, r.Err, brief(r.Violations))
		}
		if want := []string{"k1", "7", "true"}; !reflect.DeepEqual(r.PrimaryKey, want) {
			t.Errorf("%s: PrimaryKey = %q, want %q", rec, r.PrimaryKey, want)
		}
	}
	r := s.Validate([]byte(`{"b":7,"c":false}`), Options{})
	if want := []string{"", "7", "false"}; !reflect.DeepEqual(r.PrimaryKey, want) {
		t.Errorf("missing key: PrimaryKey = %q, want %q", r.PrimaryKey, want)
	}
	if got := brief(r.Violations); !reflect.DeepEqual(got, []string{"a primary_key"}) {
		t.Errorf("violations = %v", got)
	}
	// Coerced values appear in canonical form.
	r = s.Validate([]byte(`{"b":"+007","a":"k","c":"YES"}`), Options{CoerceText: true})
	if want := []string{"k", "7", "true"}; !reflect.DeepEqual(r.PrimaryKey, want) {
		t.Errorf("coerced: PrimaryKey = %q, want %q", r.PrimaryKey, want)
	}
}

func TestEventTime(t *testing.T) {
	c := contract(
		fld("id", tString),
		fld("ts", tTimestamp),
		fld("day", tDate),
		fld("ts_custom", tTimestamp, format("dd/MM/yyyy HH:mm:ss")),
		fld("n", tInteger),
	)
	s := mustCompile(t, c)
	tests := []struct {
		field, rec string
		want       time.Time
	}{
		{"ts", `{"ts":"2025-03-01T10:00:00.5+01:00"}`, time.Date(2025, 3, 1, 9, 0, 0, 5e8, time.UTC)},
		{"ts", `{"id":"x"}`, time.Time{}},
		{"ts", `{"ts":null}`, time.Time{}},
		{"ts", `{"ts":"yesterday"}`, time.Time{}},
		{"day", `{"day":"2025-03-01"}`, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"ts_custom", `{"ts_custom":"01/03/2025 10:00:00"}`, time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		r := s.Validate([]byte(tc.rec), Options{EventTimeField: tc.field})
		if r.Err != nil {
			t.Fatalf("%s: %v", tc.rec, r.Err)
		}
		if !r.EventTime.Equal(tc.want) {
			t.Errorf("%s: EventTime = %v, want %v", tc.rec, r.EventTime, tc.want)
		}
	}
	for _, bad := range []string{"n", "nope"} {
		if r := s.Validate([]byte(`{}`), Options{EventTimeField: bad}); r.Err == nil {
			t.Errorf("EventTimeField %q accepted", bad)
		}
		if s.CheckEventTimeField(bad) == nil {
			t.Errorf("CheckEventTimeField(%q) = nil", bad)
		}
	}
}

func TestCoerceText(t *testing.T) {
	c := contract(
		fld("s", tString),
		fld("i", tInteger),
		fld("n", tNumber),
		fld("b", tBoolean),
		fld("d", tDecimal, decimal(6, 2)),
		fld("day", tDate),
		fld("ts", tTimestamp),
		fld("o", tObject, props(fld("x", tInteger), fld("y", tString))),
		fld("a", tArray, items(fld("e", tInteger))),
		fld("r", tString, required),
	)
	s := mustCompile(t, c)
	tests := []struct {
		name, in, want string
		viol           []string
	}{
		{"all types",
			`{"s":"007","i":"42","n":"1e3","b":"Yes","d":"12.50","day":"2025-03-01","ts":"2025-03-01T10:00:00Z","r":"x"}`,
			`{"s":"007","i":42,"n":1e3,"b":true,"d":"12.50","day":"2025-03-01","ts":"2025-03-01T10:00:00Z","r":"x"}`, nil},
		{"unchanged returns input", `{ "s" : "a", "r":"x" }`, `{ "s" : "a", "r":"x" }`, nil},
		{"empty is absent", `{"s":"","i":"","r":"x","n":""}`, `{"r":"x"}`, nil},
		{"empty required", `{"r":"","s":"a"}`, `{"s":"a"}`, []string{"r required"}},
		{"integer forms", `{"i":" -7 ","r":"x"}`, `{"i":-7,"r":"x"}`, nil},
		{"integer plus", `{"i":"+007","r":"x"}`, `{"i":7,"r":"x"}`, nil},
		{"integer fraction", `{"i":"4.2","r":"x"}`, `{"i":"4.2","r":"x"}`, []string{"i type"}},
		{"integer exponent", `{"i":"1e3","r":"x"}`, `{"i":"1e3","r":"x"}`, []string{"i type"}},
		{"integer +-", `{"i":"+-1","r":"x"}`, `{"i":"+-1","r":"x"}`, []string{"i type"}},
		{"number", `{"n":"-3.14","r":"x"}`, `{"n":-3.14,"r":"x"}`, nil},
		{"number plus", `{"n":"+0.5","r":"x"}`, `{"n":0.5,"r":"x"}`, nil},
		{"number bad", `{"n":"NaN","r":"x"}`, `{"n":"NaN","r":"x"}`, []string{"n type"}},
		{"number hex", `{"n":"0x10","r":"x"}`, `{"n":"0x10","r":"x"}`, []string{"n type"}},
		{"bool 0", `{"b":"0","r":"x"}`, `{"b":false,"r":"x"}`, nil},
		{"bool NO", `{"b":"NO","r":"x"}`, `{"b":false,"r":"x"}`, nil},
		{"bool bad", `{"b":"maybe","r":"x"}`, `{"b":"maybe","r":"x"}`, []string{"b type"}},
		{"decimal scale", `{"d":"1.234","r":"x"}`, `{"d":"1.234","r":"x"}`, []string{"d decimal"}},
		{"decimal trimmed", `{"d":" 1.5 ","r":"x"}`, `{"d":"1.5","r":"x"}`, nil},
		{"decimal bad", `{"d":"1,5","r":"x"}`, `{"d":"1,5","r":"x"}`, []string{"d type"}},
		{"date bad", `{"day":"01.03.2025","r":"x"}`, `{"day":"01.03.2025","r":"x"}`, []string{"day format"}},
		{"object text", `{"o":"{\"x\": \"5\", \"y\": \"\"}","r":"x"}`, `{"o":{"x":5},"r":"x"}`, nil},
		{"object text bad", `{"o":"{nope","r":"x"}`, `{"o":"{nope","r":"x"}`, []string{"o type"}},
		{"object text violations", `{"o":"{\"x\":\"a\"}","r":"x"}`, `{"o":{"x":"a"},"r":"x"}`, []string{"o.x type"}},
		{"array text", `{"a":"[1, \"2\", \"\"]","r":"x"}`, `{"a":[1,2,null],"r":"x"}`, []string{"a[2] type"}},
		{"array text wrong kind", `{"a":"{}","r":"x"}`, `{"a":"{}","r":"x"}`, []string{"a type"}},
		{"nested strings (dotted CSV)", `{"o":{"x":"12","y":"z"},"r":"x"}`, `{"o":{"x":12,"y":"z"},"r":"x"}`, nil},
		{"real JSON types stay", `{"i":5,"b":true,"n":1.5,"r":"x"}`, `{"i":5,"b":true,"n":1.5,"r":"x"}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Validate([]byte(tc.in), Options{CoerceText: true})
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if string(r.Record) != tc.want {
				t.Errorf("Record = %s, want %s", r.Record, tc.want)
			}
			if got := brief(r.Violations); !reflect.DeepEqual(got, tc.viol) {
				t.Errorf("violations = %q, want %q", got, tc.viol)
			}
			for _, v := range r.Violations {
				if v.Rule == "type" && !strings.Contains(v.Description, "expected") {
					t.Errorf("description %q does not say what was expected", v.Description)
				}
			}
			if !json.Valid(r.Record) {
				t.Errorf("Record is not valid JSON: %s", r.Record)
			}
		})
	}
	// Without coercion strings stay strings.
	r := s.Validate([]byte(`{"i":"42","r":"x","s":""}`), Options{})
	if got := brief(r.Violations); !reflect.DeepEqual(got, []string{"i type"}) {
		t.Errorf("no coercion: %v", got)
	}
}

func TestQualityRules(t *testing.T) {
	lo, hi := 0.0, 10.0
	c := contract(
		fld("cur", tString, qual(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ACCEPTED_VALUES, Name: "iso", Values: []string{"EUR", "USD"}, Severity: "error"})),
		fld("n", tNumber, qual(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_RANGE, Min: &lo, Max: &hi})),
		fld("code", tString, qual(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_REGEX, Pattern: `^[a-z]+$`})),
		fld("must", tString, qual(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL})),
		fld("warn", tString, qual(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL, Severity: "warning"})),
		fld("tol", tString, qual(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL, Tolerance: 0.1})),
	)
	s := mustCompile(t, c)
	r := s.Validate([]byte(`{"cur":"JPY","n":11,"code":"A1"}`), Options{})
	want := []string{"cur accepted_values", "n range", "code regex", "must not_null"}
	if got := brief(r.Violations); !reflect.DeepEqual(got, want) {
		t.Errorf("violations = %q, want %q", got, want)
	}
	if r := s.Validate([]byte(`{"cur":"EUR","n":10,"code":"ab","must":"x"}`), Options{}); !r.Valid() {
		t.Errorf("valid record: %v", brief(r.Violations))
	}
}

func TestFormats(t *testing.T) {
	c := contract(
		fld("email", tString, format("email")),
		fld("d", tDate, format("dd.MM.yyyy")),
		fld("g", tDate, format("02/01/2006")),
		fld("hint", tString, format("uri")),
	)
	s := mustCompile(t, c)
	for rec, want := range map[string][]string{
		`{"email":"a@b.de","d":"01.03.2025","g":"01/03/2025","hint":"anything"}`: nil,
		`{"email":"a@b","d":"2025-03-01","g":"2025-03-01"}`:                      {"email format", "d format", "g format"},
		`{"email":"a b@c.de"}`: {"email format"},
	} {
		r := s.Validate([]byte(rec), Options{})
		if got := brief(r.Violations); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q, want %q", rec, got, want)
		}
	}
}

func TestCompile(t *testing.T) {
	c := richContract()
	c.Schema = append(c.Schema, &catalogv1.SchemaObject{Name: "returns", Properties: []*catalogv1.Field{fld("id", tString)}})
	if s, err := Compile(c, "returns"); err != nil || s.Name() != "returns" {
		t.Errorf("Compile(returns) = %v, %v", s, err)
	}
	if s, err := Compile(c, ""); err != nil || s.Name() != "orders" {
		t.Errorf("Compile(\"\") = %v, %v", s, err)
	}
	if _, err := Compile(c, "nope"); err == nil {
		t.Error("missing object compiled")
	}
	if _, err := Compile(&catalogv1.Contract{}, ""); err == nil {
		t.Error("contract without objects compiled")
	}
	if _, err := Compile(nil, ""); err == nil {
		t.Error("nil contract compiled")
	}
	bad := contract(fld("a", tString, pattern(`(`)))
	if _, err := Compile(bad, ""); err == nil || !strings.Contains(err.Error(), "orders.a") {
		t.Errorf("bad pattern: %v", err)
	}
	// Compile does not keep or change the contract.
	c2 := proto.Clone(c)
	if _, err := Compile(c, ""); err != nil || !proto.Equal(c, c2) {
		t.Error("Compile changed the contract")
	}
}

func TestConcurrent(t *testing.T) {
	s := mustCompile(t, richContract())
	bad := with(t, "status", `"x"`, "quantity", `"3"`)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				rec, n := validRich, 0
				if (g+i)%2 == 0 {
					rec, n = bad, 2
					if i%3 == 0 {
						n = 1 // "3" is coerced
					}
				}
				r := s.Validate([]byte(rec), Options{CoerceText: i%3 == 0, EventTimeField: "created_at"})
				if r.Err != nil || len(r.Violations) != n || r.PrimaryKey[0] != "O-1" || r.EventTime.IsZero() {
					t.Errorf("concurrent result: %v %v %q", r.Err, brief(r.Violations), r.PrimaryKey)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// benchContract is a 10-field contract like sales.orders.
func benchContract() *catalogv1.Contract {
	return contract(
		fld("order_id", tString, pk(1), format("uuid")),
		fld("customer_id", tString, required, format("uuid")),
		fld("customer_email", tString, required, maxLen(254), pattern(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)),
		fld("product_id", tString, required, format("uuid")),
		fld("quantity", tInteger, required, minimum(1), maximum(1000)),
		fld("unit_price", tDecimal, required, decimal(10, 2), minimum(0)),
		fld("currency", tString, required, pattern(`^[A-Z]{3}$`)),
		fld("channel", tString, required, enum("web", "mobile_app", "marketplace", "store_pickup")),
		fld("gift_message", tString, maxLen(500)),
		fld("order_ts", tTimestamp, required),
	)
}

const benchRecord = `{"order_id":"3f2b8c4e-1d2a-4b7c-9e8f-0a1b2c3d4e5f","customer_id":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",` +
	`"customer_email":"jane.doe@example.com","product_id":"0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0","quantity":2,` +
	`"unit_price":49.90,"currency":"EUR","channel":"web","gift_message":"Happy birthday!","order_ts":"2025-03-01T10:15:30Z"}`

func TestBenchRecordValid(t *testing.T) {
	s := mustCompile(t, benchContract())
	r := s.Validate([]byte(benchRecord), Options{EventTimeField: "order_ts"})
	if !r.Valid() {
		t.Fatalf("%v %v", r.Err, brief(r.Violations))
	}
	if raceEnabled {
		return
	}
	if allocs := testing.AllocsPerRun(100, func() {
		s.Validate([]byte(benchRecord), Options{EventTimeField: "order_ts"})
	}); allocs > 3 {
		t.Errorf("allocs per valid record = %v, want <= 3", allocs)
	}
}

func BenchmarkValidate(b *testing.B) {
	s := mustCompile(b, benchContract())
	rec := []byte(benchRecord)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		r := s.Validate(rec, Options{EventTimeField: "order_ts"})
		if len(r.Violations) != 0 || r.Err != nil {
			b.Fatal(r.Err, r.Violations)
		}
	}
}

func BenchmarkValidateCoerce(b *testing.B) {
	s := mustCompile(b, benchContract())
	rec := []byte(strings.Replace(strings.Replace(benchRecord, `"quantity":2`, `"quantity":"2"`, 1), `49.90`, `"49.90"`, 1))
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		r := s.Validate(rec, Options{CoerceText: true, EventTimeField: "order_ts"})
		if len(r.Violations) != 0 || r.Err != nil {
			b.Fatal(r.Err, r.Violations)
		}
	}
}

func BenchmarkValidateParallel(b *testing.B) {
	s := mustCompile(b, benchContract())
	rec := []byte(benchRecord)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Validate(rec, Options{EventTimeField: "order_ts"})
		}
	})
}
