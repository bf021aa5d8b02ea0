package contract

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/proto"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const examplesDir = "../../../../examples/retailer"

// TestODCSGolden parses every testdata/*.odcs.yaml, compares the export with
// <name>.golden.yaml and the unmodeled paths with <name>.unmodeled.golden.
func TestODCSGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.odcs.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".odcs.yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			c, unmodeled, err := ParseODCS(data)
			if err != nil {
				t.Fatalf("ParseODCS: %v", err)
			}
			out, err := ExportODCS(c)
			if err != nil {
				t.Fatalf("ExportODCS: %v", err)
			}
			golden(t, filepath.Join("testdata", name+".golden.yaml"), out)
			golden(t, filepath.Join("testdata", name+".unmodeled.golden"), []byte(strings.Join(unmodeled, "\n")+"\n"))

			// The export is a fixed point.
			c2, unmodeled2, err := ParseODCS(out)
			if err != nil {
				t.Fatalf("ParseODCS(export): %v", err)
			}
			if !proto.Equal(c, c2) {
				t.Errorf("Parse(Export(c)) != c\n got %v\nwant %v", c2, c)
			}
			if len(unmodeled2) != 0 {
				t.Errorf("export has unmodeled elements %q", unmodeled2)
			}
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestODCSGoldenDetails pins down the mapping decisions in the golden files.
func TestODCSGoldenDetails(t *testing.T) {
	parse := func(name string) (*catalogv1.Contract, []string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		c, un, err := ParseODCS(data)
		if err != nil {
			t.Fatal(err)
		}
		return c, un
	}

	c, unmodeled := parse("full.odcs.yaml")
	for _, want := range []string{
		"status", "servers", "price", "team", "roles", "support", "customProperties", "slaDefaultElement",
		"description.authoritativeDefinitions",
		"schema[0].id", "schema[0].relationships", "schema[0].dataGranularityDescription", "schema[0].customProperties",
		"schema[0].properties[0].physicalName", "schema[0].properties[0].partitioned",
		"schema[0].properties[0].logicalTypeOptions.minimum", "schema[0].properties[0].customProperties",
		"schema[0].properties[1].relationships",
		"schema[0].properties[2].encryptedName", "schema[0].properties[2].quality[0].businessImpact",
		"schema[0].properties[2].quality[0].schedule",
		"schema[0].properties[3].logicalType",
		"schema[0].properties[4].logicalTypeOptions.exclusiveMinimum",
		"schema[0].properties[4].quality[0]", "schema[0].properties[4].quality[1]", "schema[0].properties[4].quality[2]",
		"schema[0].quality[0].method", "schema[0].quality[1]",
		"slaProperties[0].element", "slaProperties[1]", "slaProperties[3].valueExt", "slaProperties[4]",
	} {
		if !contains(unmodeled, want) {
			t.Errorf("unmodeled lacks %q: %q", want, unmodeled)
		}
	}
	for _, notWant := range []string{"authoritativeDefinitions", "schema[0].logicalType", "schema[0].properties[1].partitioned", "schema[0].properties[1].partitionKeyPosition", "schema[0].properties[0].tags"} {
		if contains(unmodeled, notWant) {
			t.Errorf("unmodeled reports %q, which holds no information", notWant)
		}
	}
	if c.Status != catalogv1.ContractStatus_CONTRACT_STATUS_DRAFT {
		t.Errorf("proposed → %v, want draft", c.Status)
	}
	amount := c.Schema[0].Properties[4]
	if amount.LogicalType != tDecimal || amount.Precision != 18 || amount.Scale != 4 {
		t.Errorf("amount = %v, want decimal(18,4) from NUMERIC(18, 4)", amount)
	}
	if got := c.Schema[0].Properties[1].Classification; got != catalogv1.Classification_CLASSIFICATION_CONFIDENTIAL {
		t.Errorf("classification CONFIDENTIAL → %v", got)
	}
	if got := c.Schema[0].Quality[0].GetMin(); got != 1000001 {
		t.Errorf("rowCount mustBeGreaterThan 1000000 → min %v, want 1000001", got)
	}
	want := &catalogv1.Sla{MaxFreshnessSeconds: 4 * 86400, RetentionSeconds: 3 * 365 * 86400, UpdateFrequencySeconds: 86400}
	if !proto.Equal(c.Sla, want) {
		t.Errorf("sla = %v, want %v", c.Sla, want)
	}

	q, unmodeled := parse("quality.odcs.yaml")
	id := q.Schema[0].Properties[0]
	if len(id.Quality) != 4 {
		t.Fatalf("id quality = %v, want 4 rules", id.Quality)
	}
	if tol := id.Quality[0].Tolerance; tol != 0.0007 {
		t.Errorf("0.07 percent → tolerance %v, want exactly 0.0007", tol)
	}
	for _, want := range []string{"schema[0].properties[0].quality[2].dimension", "schema[0].properties[0].quality[4]", "schema[0].properties[0].quality[5]", "schema[0].quality[3].implementation.window"} {
		if !contains(unmodeled, want) {
			t.Errorf("unmodeled lacks %q: %q", want, unmodeled)
		}
	}
	wantSLA := &catalogv1.Sla{MaxFreshnessSeconds: 5400, UpdateFrequencySeconds: 1800, RetentionSeconds: 2 * 365 * 86400}
	if !proto.Equal(q.Sla, wantSLA) {
		t.Errorf("sla = %v, want %v", q.Sla, wantSLA)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRetailerExamples checks every example contract: it parses without
// unmodeled elements, is valid, exports to the same YAML (semantically) and
// round-trips.
func TestRetailerExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.odcs.yaml"))
	if err != nil || len(files) < 6 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c, unmodeled, err := ParseODCS(data)
			if err != nil {
				t.Fatalf("ParseODCS: %v", err)
			}
			if len(unmodeled) > 0 {
				t.Errorf("unmodeled: %q", unmodeled)
			}
			if vs := Validate(c); len(vs) > 0 {
				t.Errorf("Validate: %v", vs)
			}
			out, err := ExportODCS(c)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := yamlValue(t, data), yamlValue(t, out); !reflect.DeepEqual(a, b) {
				t.Errorf("Export(Parse(x)) != x\n--- export\n%s", out)
			}
			c2, _, err := ParseODCS(out)
			if err != nil || !proto.Equal(c, c2) {
				t.Errorf("Parse(Export(c)) != c: %v", err)
			}
			for _, mode := range allModes {
				if vs := Check(mode, c, []*catalogv1.Contract{c}); len(vs) > 0 {
					t.Errorf("%s against itself: %v", mode, vs)
				}
			}
		})
	}
}

// yamlValue decodes YAML into plain Go values with every number as float64.
func yamlValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var norm func(any) any
	norm = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = norm(e)
			}
		case []any:
			for i, e := range x {
				x[i] = norm(e)
			}
		case int:
			return float64(x)
		}
		return v
	}
	return norm(v)
}

func parseExample(t *testing.T, name string) *catalogv1.Contract {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := ParseODCS(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRetailerWalkthrough is the scenario of examples/retailer/README.md.
func TestRetailerWalkthrough(t *testing.T) {
	v100 := parseExample(t, "sales-orders.odcs.yaml")
	compatible := parseExample(t, "sales-orders-v1.1.odcs.yaml")
	breaking := parseExample(t, "sales-orders-v1.1-breaking.odcs.yaml")
	history := []*catalogv1.Contract{v100}

	for _, mode := range allModes {
		if vs := Check(mode, compatible, history); len(vs) > 0 {
			t.Errorf("compatible 1.1.0 under %s: %v", mode, vs)
		}
	}
	rules := func(vs []*catalogv1.Violation) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.Field+" "+v.Rule+" "+v.OldValue+" → "+v.NewValue)
		}
		return out
	}
	backward := []string{
		"orders.channel enum_narrowed web, mobile_app, marketplace, store_pickup → web, mobile_app",
		"orders.gift_message optional_made_required optional → required",
		"orders.sales_region field_added_required (absent) → required string",
		"orders.unit_price type_narrowed decimal(10,2) → decimal(8,2)",
	}
	if got := rules(Check(mBackward, breaking, history)); !reflect.DeepEqual(got, backward) {
		t.Errorf("BACKWARD:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(backward, "\n"))
	}
	forward := []string{"orders.quantity type_widened integer → number"}
	if got := rules(Check(mForward, breaking, history)); !reflect.DeepEqual(got, forward) {
		t.Errorf("FORWARD:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(forward, "\n"))
	}
	if got := Check(mFull, breaking, history); len(got) != len(backward)+len(forward) {
		t.Errorf("FULL: %v", rules(got))
	}
}

// TestODCSRoundTripProto exports a contract that uses every modeled element
// and reads it back.
func TestODCSRoundTripProto(t *testing.T) {
	c := richContract()
	if vs := Validate(c); len(vs) > 0 {
		t.Fatalf("richContract is invalid: %v", vs)
	}
	out, err := ExportODCS(c)
	if err != nil {
		t.Fatal(err)
	}
	c2, unmodeled, err := ParseODCS(out)
	if err != nil {
		t.Fatalf("ParseODCS: %v\n%s", err, out)
	}
	if len(unmodeled) > 0 {
		t.Errorf("unmodeled %q", unmodeled)
	}
	if !proto.Equal(c, c2) {
		t.Errorf("round trip differs\n got %v\nwant %v\n%s", c2, c, out)
	}
	again, _ := ExportODCS(c2)
	if !bytes.Equal(out, again) {
		t.Error("export is not deterministic")
	}

	// Output-only fields are not exported.
	c.CreatedBy = "alice"
	out2, _ := ExportODCS(c)
	if !bytes.Equal(out, out2) {
		t.Error("created_by leaked into the export")
	}
}

func richContract() *catalogv1.Contract {
	c := baseContract("1.2.3-rc.1")
	c.Id, c.Name, c.Tenant = "sales.orders", "Orders", "acme"
	c.Purpose, c.Usage, c.Limitations = "why\nmultiline", "how", "limits: many"
	c.Tags = []string{"sales", "123", "true", "null"}
	c.ContractCreatedTs = "2025-01-01T00:00:00Z"
	c.Sla = &catalogv1.Sla{MaxFreshnessSeconds: 90, UpdateFrequencySeconds: 7200, RetentionSeconds: 86400 * 400}
	o := c.Schema[0]
	o.PhysicalName, o.PhysicalType, o.BusinessName, o.Description, o.Tags = "orders_v1", "table", "Orders", "desc", []string{"fact"}
	o.Quality = []*catalogv1.QualityRule{
		{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ROW_COUNT, Name: "rc", Min: proto.Float64(10), Max: proto.Float64(20.5), Severity: "warning"},
		{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ROW_COUNT, Max: proto.Float64(7)},
		{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ROW_COUNT, Min: proto.Float64(3), Max: proto.Float64(3)},
		{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_FRESHNESS, MaxAgeSeconds: 3600, Description: "fresh"},
	}
	id := field(c, "order_id")
	id.Description, id.BusinessName, id.PhysicalType, id.Format = "id", "Order id", "uuid", "uuid"
	id.Classification, id.CriticalDataElement, id.Examples = catalogv1.Classification_CLASSIFICATION_INTERNAL, true, []string{"a-b", ""}
	id.Quality = []*catalogv1.QualityRule{
		{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL},
		{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL, Tolerance: 0.0123},
		{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_UNIQUE, Tolerance: 1e-9},
		{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ACCEPTED_VALUES, Values: []string{"x", "1", "null"}},
		{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_REGEX, Pattern: `^\w+$`, Severity: "error"},
	}
	q := field(c, "quantity")
	q.Examples, q.Enum = []string{"1", "2.5e3"}, []string{"1", "2", "3"}
	q.Quality = []*catalogv1.QualityRule{{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_RANGE, Min: proto.Float64(-0.25), Max: proto.Float64(1e300)}}
	field(c, "note").MinLength = proto.Int64(0)
	field(c, "order_date").Quality = []*catalogv1.QualityRule{{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_FRESHNESS, MaxAgeSeconds: 1}}
	field(c, "tags").Items.Name = "tag"
	field(c, "tags").Items.MaxLength = proto.Int64(5)
	return c
}

func TestParseODCSErrors(t *testing.T) {
	const head = "apiVersion: v3.1.0\nkind: DataContract\n"
	tests := []struct {
		name, in, field string
	}{
		{"too large", head + "description: {purpose: '" + strings.Repeat("x", MaxYAMLBytes) + "'}\n", ""},
		{"empty", "", ""},
		{"only a comment", "# nothing\n", ""},
		{"invalid YAML", "apiVersion: [\n", ""},
		{"two documents", head + "---\n" + head, ""},
		{"not a mapping", "- a\n- b\n", ""},
		{"missing apiVersion", "kind: DataContract\n", "apiVersion"},
		{"wrong apiVersion", "apiVersion: v2.2.2\nkind: DataContract\n", "apiVersion"},
		{"missing kind", "apiVersion: v3.1.0\n", "kind"},
		{"wrong kind", "apiVersion: v3.1.0\nkind: DataProduct\n", "kind"},
		{"duplicate key", head + "id: a\nid: b\n", "id"},
		{"alias", head + "name: &n x\nid: *n\n", "id"},
		{"tags not a list", head + "tags: sales\n", "tags"},
		{"tag not a string", head + "tags: [[a]]\n", "tags[0]"},
		{"description a string", head + "description: hello\n", "description"},
		{"unknown status", head + "status: live\n", "status"},
		{"schema not a list", head + "schema: {name: x}\n", "schema"},
		{"unknown logical type", head + "schema: [{name: o, properties: [{name: f, logicalType: uuid}]}]\n", "schema[0].properties[0].logicalType"},
		{"unknown classification", head + "schema: [{name: o, properties: [{name: f, classification: restricted}]}]\n", "schema[0].properties[0].classification"},
		{"required not a bool", head + "schema: [{name: o, properties: [{name: f, required: 'yes'}]}]\n", "schema[0].properties[0].required"},
		{"position out of range", head + "schema: [{name: o, properties: [{name: f, primaryKeyPosition: 9999999999}]}]\n", "schema[0].properties[0].primaryKeyPosition"},
		{"maxLength not an integer", head + "schema: [{name: o, properties: [{name: f, logicalTypeOptions: {maxLength: 1.5}}]}]\n", "schema[0].properties[0].logicalTypeOptions.maxLength"},
		{"duplicate SLA property", head + "slaProperties: [{property: latency, value: 1, unit: d}, {property: ly, value: 2, unit: d}]\n", "slaProperties[1]"},
		{"too deep", head + "schema: [{name: o, properties: [" + strings.Repeat("{name: f, properties: [", 70) + strings.Repeat("]}", 70) + "]}]\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := ParseODCS([]byte(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseODCS = %v, %v; want a *ParseError", c, err)
			}
			if tt.field != "" && pe.Field != tt.field {
				t.Errorf("error field = %q, want %q (%v)", pe.Field, tt.field, err)
			}
			if !strings.Contains(err.Error(), pe.Field) || pe.Description == "" {
				t.Errorf("error %q does not explain itself", err)
			}
		})
	}
}

func TestExportODCSNil(t *testing.T) {
	if _, err := ExportODCS(nil); err == nil {
		t.Error("ExportODCS(nil) succeeded")
	}
}
