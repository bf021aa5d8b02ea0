package contract

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

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

	mBackward   = catalogv1.CompatibilityMode_COMPATIBILITY_MODE_BACKWARD
	mBackwardT  = catalogv1.CompatibilityMode_COMPATIBILITY_MODE_BACKWARD_TRANSITIVE
	mForward    = catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FORWARD
	mForwardT   = catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FORWARD_TRANSITIVE
	mFull       = catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FULL
	mFullT      = catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FULL_TRANSITIVE
	mNone       = catalogv1.CompatibilityMode_COMPATIBILITY_MODE_NONE
	mUnspecifed = catalogv1.CompatibilityMode_COMPATIBILITY_MODE_UNSPECIFIED
)

var allModes = []catalogv1.CompatibilityMode{mUnspecifed, mBackward, mBackwardT, mForward, mForwardT, mFull, mFullT, mNone}

// baseContract is a valid orders contract the compatibility cases mutate.
func baseContract(version string) *catalogv1.Contract {
	return &catalogv1.Contract{
		Domain: "sales", Product: "orders", Version: version,
		Status: catalogv1.ContractStatus_CONTRACT_STATUS_ACTIVE,
		Schema: []*catalogv1.SchemaObject{{
			Name: "orders",
			Properties: []*catalogv1.Field{
				{Name: "order_id", LogicalType: tString, Required: true, PrimaryKey: true},
				{Name: "quantity", LogicalType: tInteger, Required: true, Minimum: proto.Float64(1), Maximum: proto.Float64(100)},
				{Name: "price", LogicalType: tDecimal, Required: true, Precision: 10, Scale: 2},
				{Name: "status", LogicalType: tString, Required: true, Enum: []string{"new", "paid", "shipped"}},
				{Name: "note", LogicalType: tString, MaxLength: proto.Int64(200)},
				{Name: "email", LogicalType: tString, Pattern: `^[^@]+@[^@]+$`},
				{Name: "order_date", LogicalType: tDate},
				{Name: "code", LogicalType: tString, Unique: true},
				{Name: "tags", LogicalType: tArray, Items: &catalogv1.Field{LogicalType: tString}},
				{Name: "address", LogicalType: tObject, Properties: []*catalogv1.Field{
					{Name: "country", LogicalType: tString, Required: true},
					{Name: "city", LogicalType: tString},
				}},
			},
		}, {
			Name: "order_lines",
			Properties: []*catalogv1.Field{
				{Name: "order_id", LogicalType: tString, Required: true, PrimaryKey: true, PrimaryKeyPosition: 1},
				{Name: "line", LogicalType: tInteger, Required: true, PrimaryKey: true, PrimaryKeyPosition: 2},
			},
		}},
	}
}

// field finds a field by dotted path below the first object ("address.city").
func field(c *catalogv1.Contract, path string) *catalogv1.Field {
	fs := c.Schema[0].Properties
	var f *catalogv1.Field
	for _, name := range strings.Split(path, ".") {
		f = nil
		for _, x := range fs {
			if x.Name == name {
				f = x
			}
		}
		if f == nil {
			panic("no field " + path)
		}
		fs = f.Properties
	}
	return f
}

func removeField(c *catalogv1.Contract, name string) {
	c.Schema[0].Properties = slices.DeleteFunc(c.Schema[0].Properties, func(f *catalogv1.Field) bool { return f.Name == name })
}

// got renders violations as "field:rule" for comparison.
func got(vs []*catalogv1.Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Field+":"+v.Rule)
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

func TestCheckRules(t *testing.T) {
	tests := []struct {
		name string
		// prev and cand mutate the base contract into the previous version
		// and the candidate; nil leaves it as is.
		prev, cand func(c *catalogv1.Contract)
		// Violations as "field:rule" when the candidate reads previous data
		// (backward) and when the previous reads the candidate's (forward).
		backward, forward []string
	}{
		{
			name: "no change",
		},
		{
			name: "documentation changes are compatible",
			cand: func(c *catalogv1.Contract) {
				c.Purpose = "new purpose"
				field(c, "note").Description = "free text"
				field(c, "note").Tags = []string{"x"}
				field(c, "email").Classification = catalogv1.Classification_CLASSIFICATION_PII
				c.Schema[0].Quality = []*catalogv1.QualityRule{{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ROW_COUNT, Min: proto.Float64(1)}}
			},
		},
		{
			name: "optional field added",
			cand: func(c *catalogv1.Contract) {
				c.Schema[0].Properties = append(c.Schema[0].Properties, &catalogv1.Field{Name: "coupon_code", LogicalType: tString})
			},
		},
		{
			name: "required field added",
			cand: func(c *catalogv1.Contract) {
				c.Schema[0].Properties = append(c.Schema[0].Properties, &catalogv1.Field{Name: "channel", LogicalType: tString, Required: true})
			},
			backward: []string{"orders.channel:field_added_required"},
		},
		{
			name: "optional field removed",
			cand: func(c *catalogv1.Contract) { removeField(c, "note") },
		},
		{
			name:    "required field removed",
			cand:    func(c *catalogv1.Contract) { removeField(c, "quantity") },
			forward: []string{"orders.quantity:field_removed"},
		},
		{
			name:     "optional made required",
			cand:     func(c *catalogv1.Contract) { field(c, "note").Required = true },
			backward: []string{"orders.note:optional_made_required"},
		},
		{
			name:    "required made optional",
			cand:    func(c *catalogv1.Contract) { field(c, "quantity").Required = false },
			forward: []string{"orders.quantity:required_made_optional"},
		},
		{
			name:    "integer widened to number",
			cand:    func(c *catalogv1.Contract) { field(c, "quantity").LogicalType = tNumber },
			forward: []string{"orders.quantity:type_widened"},
		},
		{
			name:     "number narrowed to integer",
			prev:     func(c *catalogv1.Contract) { field(c, "quantity").LogicalType = tNumber },
			backward: []string{"orders.quantity:type_narrowed"},
		},
		{
			name: "decimal widened to number",
			cand: func(c *catalogv1.Contract) {
				f := field(c, "price")
				f.LogicalType, f.Precision, f.Scale = tNumber, 0, 0
			},
			forward: []string{"orders.price:type_widened"},
		},
		{
			name:     "decimal precision reduced",
			cand:     func(c *catalogv1.Contract) { field(c, "price").Precision = 8 },
			backward: []string{"orders.price:type_narrowed"},
		},
		{
			name:     "decimal scale reduced",
			cand:     func(c *catalogv1.Contract) { field(c, "price").Precision, field(c, "price").Scale = 9, 1 },
			backward: []string{"orders.price:type_narrowed"},
		},
		{
			name:     "decimal digits moved from fraction to integer part",
			cand:     func(c *catalogv1.Contract) { field(c, "price").Scale = 1 },
			backward: []string{"orders.price:type_changed"},
			forward:  []string{"orders.price:type_changed"},
		},
		{
			name:    "decimal precision increased",
			cand:    func(c *catalogv1.Contract) { field(c, "price").Precision = 12 },
			forward: []string{"orders.price:type_widened"},
		},
		{
			name:     "integer to short decimal",
			cand:     func(c *catalogv1.Contract) { f := field(c, "quantity"); f.LogicalType, f.Precision = tDecimal, 10 },
			backward: []string{"orders.quantity:type_changed"},
			forward:  []string{"orders.quantity:type_changed"},
		},
		{
			name: "integer to decimal(21,2)",
			cand: func(c *catalogv1.Contract) {
				f := field(c, "quantity")
				f.LogicalType, f.Precision, f.Scale = tDecimal, 21, 2
			},
			forward: []string{"orders.quantity:type_widened"},
		},
		{
			name:     "string to integer",
			cand:     func(c *catalogv1.Contract) { field(c, "note").LogicalType = tInteger; field(c, "note").MaxLength = nil },
			backward: []string{"orders.note:type_changed"},
			forward:  []string{"orders.note:type_changed"},
		},
		{
			name: "integer to string is not a widening",
			cand: func(c *catalogv1.Contract) {
				f := field(c, "quantity")
				f.LogicalType, f.Minimum, f.Maximum = tString, nil, nil
			},
			backward: []string{"orders.quantity:type_changed"},
			forward:  []string{"orders.quantity:type_changed"},
		},
		{
			name:     "date to timestamp",
			cand:     func(c *catalogv1.Contract) { field(c, "order_date").LogicalType = tTimestamp },
			backward: []string{"orders.order_date:type_changed"},
			forward:  []string{"orders.order_date:type_changed"},
		},
		{
			name:     "boolean to string",
			prev:     func(c *catalogv1.Contract) { field(c, "note").LogicalType = tBoolean; field(c, "note").MaxLength = nil },
			backward: []string{"orders.note:type_changed"},
			forward:  []string{"orders.note:type_changed"},
		},
		{
			name:     "enum value removed",
			cand:     func(c *catalogv1.Contract) { field(c, "status").Enum = []string{"new", "paid"} },
			backward: []string{"orders.status:enum_narrowed"},
		},
		{
			name:    "enum value added",
			cand:    func(c *catalogv1.Contract) { field(c, "status").Enum = append(field(c, "status").Enum, "cancelled") },
			forward: []string{"orders.status:enum_widened"},
		},
		{
			name:    "enum dropped",
			cand:    func(c *catalogv1.Contract) { field(c, "status").Enum = nil },
			forward: []string{"orders.status:enum_widened"},
		},
		{
			name:     "enum introduced",
			prev:     func(c *catalogv1.Contract) { field(c, "status").Enum = nil },
			backward: []string{"orders.status:enum_narrowed"},
		},
		{
			name:     "enum reordered and replaced",
			cand:     func(c *catalogv1.Contract) { field(c, "status").Enum = []string{"shipped", "new", "PAID"} },
			backward: []string{"orders.status:enum_narrowed"},
			forward:  []string{"orders.status:enum_widened"},
		},
		{
			name:     "minimum raised",
			cand:     func(c *catalogv1.Contract) { field(c, "quantity").Minimum = proto.Float64(2) },
			backward: []string{"orders.quantity:range_narrowed"},
		},
		{
			name:    "maximum raised",
			cand:    func(c *catalogv1.Contract) { field(c, "quantity").Maximum = proto.Float64(1000) },
			forward: []string{"orders.quantity:range_widened"},
		},
		{
			name:    "bounds removed",
			cand:    func(c *catalogv1.Contract) { field(c, "quantity").Minimum, field(c, "quantity").Maximum = nil, nil },
			forward: []string{"orders.quantity:range_widened", "orders.quantity:range_widened"},
		},
		{
			name:     "bounds introduced",
			prev:     func(c *catalogv1.Contract) { field(c, "quantity").Minimum, field(c, "quantity").Maximum = nil, nil },
			backward: []string{"orders.quantity:range_narrowed", "orders.quantity:range_narrowed"},
		},
		{
			name:     "max length lowered",
			cand:     func(c *catalogv1.Contract) { field(c, "note").MaxLength = proto.Int64(100) },
			backward: []string{"orders.note:length_narrowed"},
		},
		{
			name:     "min length introduced",
			cand:     func(c *catalogv1.Contract) { field(c, "note").MinLength = proto.Int64(1) },
			backward: []string{"orders.note:length_narrowed"},
		},
		{
			name:    "max length dropped",
			cand:    func(c *catalogv1.Contract) { field(c, "note").MaxLength = nil },
			forward: []string{"orders.note:length_widened"},
		},
		{
			name:     "pattern changed",
			cand:     func(c *catalogv1.Contract) { field(c, "email").Pattern = `^.+@example\.com$` },
			backward: []string{"orders.email:pattern_changed"},
			forward:  []string{"orders.email:pattern_changed"},
		},
		{
			name:     "pattern added",
			cand:     func(c *catalogv1.Contract) { field(c, "note").Pattern = `^[a-z ]*$` },
			backward: []string{"orders.note:pattern_changed"},
		},
		{
			name:    "pattern removed",
			cand:    func(c *catalogv1.Contract) { field(c, "email").Pattern = "" },
			forward: []string{"orders.email:pattern_changed"},
		},
		{
			name:     "unique added",
			cand:     func(c *catalogv1.Contract) { field(c, "note").Unique = true },
			backward: []string{"orders.note:unique_added"},
		},
		{
			name:    "unique removed",
			cand:    func(c *catalogv1.Contract) { field(c, "code").Unique = false },
			forward: []string{"orders.code:unique_removed"},
		},
		{
			name: "unique declared on a sole primary key",
			cand: func(c *catalogv1.Contract) { field(c, "order_id").Unique = true },
		},
		{
			name: "primary key extended",
			cand: func(c *catalogv1.Contract) {
				field(c, "order_id").PrimaryKeyPosition = 1
				f := field(c, "code")
				f.PrimaryKey, f.PrimaryKeyPosition, f.Required = true, 2, true
			},
			backward: []string{"orders:primary_key_changed", "orders.code:optional_made_required"},
			forward:  []string{"orders:primary_key_changed"},
		},
		{
			name: "composite key reordered",
			cand: func(c *catalogv1.Contract) {
				c.Schema[1].Properties[0].PrimaryKeyPosition = 2
				c.Schema[1].Properties[1].PrimaryKeyPosition = 1
			},
			backward: []string{"order_lines:primary_key_changed"},
			forward:  []string{"order_lines:primary_key_changed"},
		},
		{
			name: "primary key dropped",
			cand: func(c *catalogv1.Contract) { field(c, "order_id").PrimaryKey = false },
			// The candidate demands no key; previous readers demand one.
			forward: []string{"orders:primary_key_changed"},
		},
		{
			name:     "object removed",
			cand:     func(c *catalogv1.Contract) { c.Schema = c.Schema[:1] },
			backward: []string{"order_lines:object_removed"},
			forward:  []string{"order_lines:object_removed"},
		},
		{
			name: "object added",
			cand: func(c *catalogv1.Contract) {
				c.Schema = append(c.Schema, &catalogv1.SchemaObject{Name: "refunds", Properties: []*catalogv1.Field{{Name: "id", LogicalType: tString, Required: true}}})
			},
		},
		{
			name: "nested required field removed",
			cand: func(c *catalogv1.Contract) {
				a := field(c, "address")
				a.Properties = a.Properties[1:]
			},
			forward: []string{"orders.address.country:field_removed"},
		},
		{
			name: "nested required field added",
			cand: func(c *catalogv1.Contract) {
				a := field(c, "address")
				a.Properties = append(a.Properties, &catalogv1.Field{Name: "postal_code", LogicalType: tString, Required: true})
			},
			backward: []string{"orders.address.postal_code:field_added_required"},
		},
		{
			name:     "nested type changed",
			cand:     func(c *catalogv1.Contract) { field(c, "address.city").LogicalType = tInteger },
			backward: []string{"orders.address.city:type_changed"},
			forward:  []string{"orders.address.city:type_changed"},
		},
		{
			name:     "object to string",
			cand:     func(c *catalogv1.Contract) { f := field(c, "address"); f.LogicalType, f.Properties = tString, nil },
			backward: []string{"orders.address:type_changed"},
			forward:  []string{"orders.address:type_changed"},
		},
		{
			name:     "items type changed",
			cand:     func(c *catalogv1.Contract) { field(c, "tags").Items.LogicalType = tInteger },
			backward: []string{"orders.tags[]:items_type_changed"},
			forward:  []string{"orders.tags[]:items_type_changed"},
		},
		{
			name:     "items enum narrowed",
			prev:     func(c *catalogv1.Contract) { field(c, "tags").Items.Enum = []string{"a", "b"} },
			cand:     func(c *catalogv1.Contract) { field(c, "tags").Items.Enum = []string{"a"} },
			backward: []string{"orders.tags[]:enum_narrowed"},
		},
		{
			name: "array of objects, nested required field added",
			prev: func(c *catalogv1.Contract) {
				field(c, "tags").Items = &catalogv1.Field{LogicalType: tObject, Properties: []*catalogv1.Field{{Name: "k", LogicalType: tString, Required: true}}}
			},
			cand: func(c *catalogv1.Contract) {
				field(c, "tags").Items = &catalogv1.Field{LogicalType: tObject, Properties: []*catalogv1.Field{
					{Name: "k", LogicalType: tString, Required: true},
					{Name: "v", LogicalType: tString, Required: true},
				}}
			},
			backward: []string{"orders.tags[].v:field_added_required"},
		},
	}
	for _, tt := range tests {
		prev, cand := baseContract("1.0.0"), baseContract("1.1.0")
		if tt.prev != nil {
			tt.prev(prev)
		}
		if tt.cand != nil {
			tt.cand(cand)
		}
		want := map[catalogv1.CompatibilityMode][]string{
			mUnspecifed: tt.backward,
			mBackward:   tt.backward,
			mBackwardT:  tt.backward,
			mForward:    tt.forward,
			mForwardT:   tt.forward,
			mFull:       union(tt.backward, tt.forward),
			mFullT:      union(tt.backward, tt.forward),
			mNone:       nil,
		}
		for _, mode := range allModes {
			t.Run(fmt.Sprintf("%s/%s", tt.name, mode), func(t *testing.T) {
				vs := Check(mode, cand, []*catalogv1.Contract{prev})
				g, w := got(vs), slices.Clone(want[mode])
				slices.Sort(g)
				slices.Sort(w)
				if mode == mFull || mode == mFullT {
					g = slices.Compact(g)
				}
				if !slices.Equal(g, w) {
					t.Errorf("Check(%s) = %q, want %q\n%v", mode, g, w, vs)
				}
				for _, v := range vs {
					if v.AgainstVersion != "1.0.0" || v.Description == "" || v.OldValue == v.NewValue {
						t.Errorf("incomplete violation %v", v)
					}
				}
			})
		}
	}
}

func TestCheckViolationDetails(t *testing.T) {
	prev, cand := baseContract("1.0.0"), baseContract("1.1.0")
	field(cand, "status").Enum = []string{"new", "paid"}
	field(cand, "quantity").Minimum = proto.Float64(5)
	field(cand, "quantity").LogicalType = tNumber
	cand.Schema[0].Properties = append(cand.Schema[0].Properties, &catalogv1.Field{Name: "channel", LogicalType: tString, Required: true})

	vs := Check(mBackward, cand, []*catalogv1.Contract{prev})
	want := []*catalogv1.Violation{
		{Field: "orders.channel", Rule: RuleFieldAddedRequired, OldValue: absent, NewValue: "required string", AgainstVersion: "1.0.0"},
		{Field: "orders.quantity", Rule: RuleRangeNarrowed, OldValue: "1", NewValue: "5", AgainstVersion: "1.0.0"},
		{Field: "orders.status", Rule: RuleEnumNarrowed, OldValue: "new, paid, shipped", NewValue: "new, paid", AgainstVersion: "1.0.0"},
	}
	if len(vs) != len(want) {
		t.Fatalf("got %d violations, want %d: %v", len(vs), len(want), vs)
	}
	for i, w := range want {
		v := proto.Clone(vs[i]).(*catalogv1.Violation)
		if v.Description == "" {
			t.Errorf("violation %d has no description", i)
		}
		v.Description = ""
		if !proto.Equal(v, w) {
			t.Errorf("violation %d = %v, want %v", i, v, w)
		}
	}

	// Forward: the previous version reads the candidate's data, but old and
	// new still describe previous → candidate.
	vs = Check(mForward, cand, []*catalogv1.Contract{prev})
	if len(vs) != 1 || vs[0].Rule != RuleTypeWidened || vs[0].OldValue != "integer" || vs[0].NewValue != "number" {
		t.Errorf("forward = %v, want one type_widened integer → number", vs)
	}
}

func TestCheckTransitive(t *testing.T) {
	// 1.0.0 allows a, b, c; 1.1.0 (published under FORWARD) dropped c; the
	// candidate keeps a, b. Only 1.0.0 data can hold c.
	v100, v110, cand := baseContract("1.0.0"), baseContract("1.1.0"), baseContract("1.2.0")
	field(v100, "status").Enum = []string{"a", "b", "c"}
	field(v110, "status").Enum = []string{"a", "b"}
	field(cand, "status").Enum = []string{"a", "b"}
	history := []*catalogv1.Contract{v100, v110}

	if vs := Check(mBackward, cand, history); len(vs) != 0 {
		t.Errorf("BACKWARD against the latest = %v, want none", vs)
	}
	vs := Check(mBackwardT, cand, history)
	if len(vs) != 1 || vs[0].Rule != RuleEnumNarrowed || vs[0].AgainstVersion != "1.0.0" {
		t.Errorf("BACKWARD_TRANSITIVE = %v, want enum_narrowed against 1.0.0", vs)
	}

	// 1.0.0 allows a, b; 1.1.0 (published under BACKWARD) added c; the
	// candidate keeps a, b, c: 1.0.0 readers cannot read c.
	field(v100, "status").Enum = []string{"a", "b"}
	field(v110, "status").Enum = []string{"a", "b", "c"}
	field(cand, "status").Enum = []string{"a", "b", "c"}
	if vs := Check(mForward, cand, history); len(vs) != 0 {
		t.Errorf("FORWARD against the latest = %v, want none", vs)
	}
	vs = Check(mForwardT, cand, history)
	if len(vs) != 1 || vs[0].Rule != RuleEnumWidened || vs[0].AgainstVersion != "1.0.0" {
		t.Errorf("FORWARD_TRANSITIVE = %v, want enum_widened against 1.0.0", vs)
	}
	if vs := Check(mFull, cand, history); len(vs) != 0 {
		t.Errorf("FULL = %v, want none", vs)
	}
	if vs := Check(mFullT, cand, history); len(vs) != 1 {
		t.Errorf("FULL_TRANSITIVE = %v, want one", vs)
	}
	if vs := Check(mNone, cand, history); vs != nil {
		t.Errorf("NONE = %v, want nil", vs)
	}
}

func TestCheckOrder(t *testing.T) {
	// Versions sort by semver precedence: 1.2.0 before 1.10.0.
	var history []*catalogv1.Contract
	for _, v := range []string{"1.2.0", "1.10.0"} {
		c := baseContract(v)
		removeField(c, "note")
		history = append(history, c)
	}
	cand := baseContract("1.11.0")
	field(cand, "note").Required = true
	field(cand, "status").Enum = []string{"new"}
	cand.Schema[0].Properties = append(cand.Schema[0].Properties, &catalogv1.Field{Name: "a_first", LogicalType: tString, Required: true})

	vs := Check(mBackwardT, cand, history)
	var keys []string
	for _, v := range vs {
		keys = append(keys, v.AgainstVersion+" "+v.Field+" "+v.Rule)
	}
	want := []string{
		"1.2.0 orders.a_first field_added_required",
		"1.2.0 orders.note field_added_required",
		"1.2.0 orders.status enum_narrowed",
		"1.10.0 orders.a_first field_added_required",
		"1.10.0 orders.note field_added_required",
		"1.10.0 orders.status enum_narrowed",
	}
	if !slices.Equal(keys, want) {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
	again := Check(mBackwardT, cand, history)
	for i := range vs {
		if !proto.Equal(vs[i], again[i]) {
			t.Fatalf("Check is not deterministic at %d", i)
		}
	}
}

func TestCheckEdgeCases(t *testing.T) {
	c := baseContract("1.0.0")
	for _, mode := range allModes {
		if vs := Check(mode, c, nil); vs != nil {
			t.Errorf("%s without history = %v", mode, vs)
		}
		if vs := Check(mode, c, []*catalogv1.Contract{c}); len(vs) != 0 {
			t.Errorf("%s against itself = %v", mode, vs)
		}
		if vs := Check(mode, nil, []*catalogv1.Contract{c}); vs != nil {
			t.Errorf("%s with nil candidate = %v", mode, vs)
		}
		_ = Check(mode, c, []*catalogv1.Contract{nil, c})
	}
}
