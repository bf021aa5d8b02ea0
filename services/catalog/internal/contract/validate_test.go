package contract

import (
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

func TestValidIdentifier(t *testing.T) {
	for s, want := range map[string]bool{
		"order_id": true, "_x": true, "A1": true, strings.Repeat("a", 128): true, strings.Repeat("a", 129): false,
		"": false, "1a": false, "a-b": false, "a.b": false,
	} {
		if got := ValidIdentifier(s); got != want {
			t.Errorf("ValidIdentifier(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidateValid(t *testing.T) {
	for name, c := range map[string]*catalogv1.Contract{
		"base": baseContract("1.0.0"),
		"rich": richContract(),
	} {
		if vs := Validate(c); len(vs) > 0 {
			t.Errorf("%s: %v", name, vs)
		}
	}
}

func TestValidate(t *testing.T) {
	nest := func(depth int) *catalogv1.Field {
		f := &catalogv1.Field{Name: "leaf", LogicalType: tString}
		for i := 1; i < depth; i++ {
			f = &catalogv1.Field{Name: "n", LogicalType: tObject, Properties: []*catalogv1.Field{f}}
		}
		return f
	}
	q := func(r *catalogv1.QualityRule) func(c *catalogv1.Contract) {
		return func(c *catalogv1.Contract) { field(c, "quantity").Quality = []*catalogv1.QualityRule{r} }
	}
	tests := []struct {
		name   string
		mutate func(c *catalogv1.Contract)
		want   string // field path of the expected violation
	}{
		{"domain empty", func(c *catalogv1.Contract) { c.Domain = "" }, "domain"},
		{"domain upper case", func(c *catalogv1.Contract) { c.Domain = "Sales" }, "domain"},
		{"product too long", func(c *catalogv1.Contract) { c.Product = strings.Repeat("p", 64) }, "product"},
		{"version not semver", func(c *catalogv1.Contract) { c.Version = "1.0" }, "version"},
		{"version with v", func(c *catalogv1.Contract) { c.Version = "v1.0.0" }, "version"},
		{"unknown status", func(c *catalogv1.Contract) { c.Status = 42 }, "status"},
		{"id too long", func(c *catalogv1.Contract) { c.Id = strings.Repeat("i", 129) }, "id"},
		{"duplicate tag", func(c *catalogv1.Contract) { c.Tags = []string{"a", "a"} }, "tags[1]"},
		{"empty tag", func(c *catalogv1.Contract) { c.Tags = []string{" "} }, "tags[0]"},
		{"created ts", func(c *catalogv1.Contract) { c.ContractCreatedTs = "yesterday" }, "contract_created_ts"},
		{"negative sla", func(c *catalogv1.Contract) { c.Sla = &catalogv1.Sla{RetentionSeconds: -1} }, "sla.retention_seconds"},
		{"no schema", func(c *catalogv1.Contract) { c.Schema = nil }, "schema"},
		{"too many objects", func(c *catalogv1.Contract) {
			for i := 0; i < MaxObjects; i++ {
				c.Schema = append(c.Schema, &catalogv1.SchemaObject{Name: "o" + strings.Repeat("x", i), Properties: []*catalogv1.Field{{Name: "a", LogicalType: tString}}})
			}
		}, "schema"},
		{"too many fields", func(c *catalogv1.Contract) {
			for i := 0; i < MaxFields; i++ {
				c.Schema[1].Properties = append(c.Schema[1].Properties, &catalogv1.Field{Name: "f" + strings.Repeat("x", i%100) + string(rune('a'+i/100)), LogicalType: tString})
			}
		}, "schema"},
		{"object name", func(c *catalogv1.Contract) { c.Schema[1].Name = "order-lines" }, "schema[1].name"},
		{"duplicate object", func(c *catalogv1.Contract) { c.Schema[1].Name = "orders" }, "schema[1].name"},
		{"object without fields", func(c *catalogv1.Contract) { c.Schema[1].Properties = nil }, "schema[1].properties"},
		{"field name empty", func(c *catalogv1.Contract) { c.Schema[0].Properties[1].Name = "" }, "schema[0].properties[1].name"},
		{"field name invalid", func(c *catalogv1.Contract) { c.Schema[0].Properties[1].Name = "2x" }, "schema[0].properties[1].name"},
		{"duplicate field", func(c *catalogv1.Contract) { c.Schema[0].Properties[1].Name = "order_id" }, "schema[0].properties[1].name"},
		{"duplicate nested field", func(c *catalogv1.Contract) { field(c, "address").Properties[1].Name = "country" }, "schema[0].properties[9].properties[1].name"},
		{"no logical type", func(c *catalogv1.Contract) { c.Schema[0].Properties[1].LogicalType = 0 }, "schema[0].properties[1].logical_type"},
		{"unknown logical type", func(c *catalogv1.Contract) { c.Schema[0].Properties[1].LogicalType = 99 }, "schema[0].properties[1].logical_type"},
		{"unknown classification", func(c *catalogv1.Contract) { c.Schema[0].Properties[1].Classification = 99 }, "schema[0].properties[1].classification"},
		{"array without items", func(c *catalogv1.Contract) { field(c, "tags").Items = nil }, "schema[0].properties[8].items"},
		{"array with properties", func(c *catalogv1.Contract) {
			field(c, "tags").Properties = []*catalogv1.Field{{Name: "x", LogicalType: tString}}
		}, "schema[0].properties[8].properties"},
		{"object without properties", func(c *catalogv1.Contract) { field(c, "address").Properties = nil }, "schema[0].properties[9].properties"},
		{"object with items", func(c *catalogv1.Contract) { field(c, "address").Items = &catalogv1.Field{LogicalType: tString} }, "schema[0].properties[9].items"},
		{"scalar with items", func(c *catalogv1.Contract) { field(c, "note").Items = &catalogv1.Field{LogicalType: tString} }, "schema[0].properties[4].items"},
		{"scalar with properties", func(c *catalogv1.Contract) {
			field(c, "note").Properties = []*catalogv1.Field{{Name: "x", LogicalType: tString}}
		}, "schema[0].properties[4].properties"},
		{"required items", func(c *catalogv1.Contract) { field(c, "tags").Items.Required = true }, "schema[0].properties[8].items"},
		{"items without type", func(c *catalogv1.Contract) { field(c, "tags").Items.LogicalType = 0 }, "schema[0].properties[8].items.logical_type"},
		{"too deep", func(c *catalogv1.Contract) { c.Schema[0].Properties = append(c.Schema[0].Properties, nest(MaxDepth+1)) }, "schema[0].properties[10]" + strings.Repeat(".properties[0]", MaxDepth)},
		{"min above max", func(c *catalogv1.Contract) { field(c, "quantity").Minimum = proto.Float64(1000) }, "schema[0].properties[1].minimum"},
		{"NaN minimum", func(c *catalogv1.Contract) { field(c, "quantity").Minimum = proto.Float64(math.NaN()) }, "schema[0].properties[1].minimum"},
		{"minimum on a string", func(c *catalogv1.Contract) { field(c, "note").Minimum = proto.Float64(0) }, "schema[0].properties[4].minimum"},
		{"negative length", func(c *catalogv1.Contract) { field(c, "note").MaxLength = proto.Int64(-1) }, "schema[0].properties[4].max_length"},
		{"min length above max", func(c *catalogv1.Contract) { field(c, "note").MinLength = proto.Int64(300) }, "schema[0].properties[4].min_length"},
		{"length on integer", func(c *catalogv1.Contract) { field(c, "quantity").MaxLength = proto.Int64(3) }, "schema[0].properties[1].min_length"},
		{"bad pattern", func(c *catalogv1.Contract) { field(c, "email").Pattern = "([" }, "schema[0].properties[5].pattern"},
		{"lookahead pattern (not RE2)", func(c *catalogv1.Contract) { field(c, "email").Pattern = "(?=a)" }, "schema[0].properties[5].pattern"},
		{"pattern on integer", func(c *catalogv1.Contract) { field(c, "quantity").Pattern = "^1$" }, "schema[0].properties[1].pattern"},
		{"duplicate enum", func(c *catalogv1.Contract) { field(c, "status").Enum = []string{"a", "a"} }, "schema[0].properties[3].enum[1]"},
		{"empty enum value", func(c *catalogv1.Contract) { field(c, "status").Enum = []string{""} }, "schema[0].properties[3].enum[0]"},
		{"too many enum values", func(c *catalogv1.Contract) {
			f := field(c, "status")
			f.Enum = nil
			for i := 0; i <= MaxEnumValues; i++ {
				f.Enum = append(f.Enum, strings.Repeat("v", i+1))
			}
		}, "schema[0].properties[3].enum"},
		{"non-integer enum", func(c *catalogv1.Contract) { field(c, "quantity").Enum = []string{"1.5"} }, "schema[0].properties[1].enum[0]"},
		{"enum on boolean", func(c *catalogv1.Contract) {
			f := field(c, "note")
			f.LogicalType, f.MaxLength, f.Enum = tBoolean, nil, []string{"true"}
		}, "schema[0].properties[4].enum"},
		{"decimal without precision", func(c *catalogv1.Contract) { field(c, "price").Precision = 0 }, "schema[0].properties[2].precision"},
		{"decimal precision too large", func(c *catalogv1.Contract) { field(c, "price").Precision = 39 }, "schema[0].properties[2].precision"},
		{"scale above precision", func(c *catalogv1.Contract) { field(c, "price").Scale = 11 }, "schema[0].properties[2].scale"},
		{"negative scale", func(c *catalogv1.Contract) { field(c, "price").Scale = -1 }, "schema[0].properties[2].scale"},
		{"precision on integer", func(c *catalogv1.Contract) { field(c, "quantity").Precision = 5 }, "schema[0].properties[1].precision"},
		{"decimal with format", func(c *catalogv1.Contract) { field(c, "price").Format = "money" }, "schema[0].properties[2].format"},
		{"number with format decimal", func(c *catalogv1.Contract) {
			f := field(c, "price")
			f.LogicalType, f.Precision, f.Scale, f.Format = tNumber, 0, 0, "Decimal"
		}, "schema[0].properties[2].format"},
		{"optional primary key", func(c *catalogv1.Contract) { field(c, "order_id").Required = false }, "schema[0].properties[0].required"},
		{"nested primary key", func(c *catalogv1.Contract) {
			f := field(c, "address.country")
			f.PrimaryKey = true
		}, "schema[0].properties[9].properties[0].primary_key"},
		{"object primary key", func(c *catalogv1.Contract) { f := field(c, "address"); f.PrimaryKey, f.Required = true, true }, "schema[0].properties[9].primary_key"},
		{"position without key", func(c *catalogv1.Contract) { field(c, "note").PrimaryKeyPosition = 2 }, "schema[0].properties[4].primary_key_position"},
		{"negative position", func(c *catalogv1.Contract) { field(c, "order_id").PrimaryKeyPosition = -1 }, "schema[0].properties[0].primary_key_position"},
		{"key positions with a gap", func(c *catalogv1.Contract) { c.Schema[1].Properties[1].PrimaryKeyPosition = 3 }, "schema[1].properties"},
		{"key positions repeated", func(c *catalogv1.Contract) { c.Schema[1].Properties[1].PrimaryKeyPosition = 1 }, "schema[1].properties"},
		{"quality without type", q(&catalogv1.QualityRule{}), "schema[0].properties[1].quality[0].type"},
		{"quality severity", q(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL, Severity: "fatal"}), "schema[0].properties[1].quality[0].severity"},
		{"tolerance above 1", q(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_UNIQUE, Tolerance: 1.5}), "schema[0].properties[1].quality[0].tolerance"},
		{"not_null with values", q(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL, Values: []string{"a"}}), "schema[0].properties[1].quality[0].values"},
		{"accepted_values empty", q(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ACCEPTED_VALUES}), "schema[0].properties[1].quality[0].values"},
		{"range without bounds", q(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_RANGE}), "schema[0].properties[1].quality[0].min"},
		{"range inverted", q(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_RANGE, Min: proto.Float64(2), Max: proto.Float64(1)}), "schema[0].properties[1].quality[0].min"},
		{"range with pattern", q(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_RANGE, Min: proto.Float64(1), Pattern: "x"}), "schema[0].properties[1].quality[0].pattern"},
		{"regex on integer", q(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_REGEX, Pattern: "x"}), "schema[0].properties[1].quality[0].type"},
		{"regex invalid", func(c *catalogv1.Contract) {
			field(c, "note").Quality = []*catalogv1.QualityRule{{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_REGEX, Pattern: "(("}}
		}, "schema[0].properties[4].quality[0].pattern"},
		{"row_count on a field", q(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ROW_COUNT, Min: proto.Float64(1)}), "schema[0].properties[1].quality[0].type"},
		{"negative row_count", func(c *catalogv1.Contract) {
			c.Schema[0].Quality = []*catalogv1.QualityRule{{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ROW_COUNT, Min: proto.Float64(-1)}}
		}, "schema[0].quality[0].min"},
		{"not_null on an object", func(c *catalogv1.Contract) {
			c.Schema[0].Quality = []*catalogv1.QualityRule{{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL}}
		}, "schema[0].quality[0].type"},
		{"freshness without age", func(c *catalogv1.Contract) {
			c.Schema[0].Quality = []*catalogv1.QualityRule{{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_FRESHNESS}}
		}, "schema[0].quality[0].max_age_seconds"},
		{"freshness on integer", q(&catalogv1.QualityRule{Type: catalogv1.QualityRuleType_QUALITY_RULE_TYPE_FRESHNESS, MaxAgeSeconds: 5}), "schema[0].properties[1].quality[0].type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseContract("1.0.0")
			tt.mutate(c)
			vs := Validate(c)
			for _, v := range vs {
				if v.Field == tt.want {
					if v.Description == "" {
						t.Errorf("violation without description: %v", v)
					}
					return
				}
			}
			t.Errorf("Validate = %v, want a violation at %s", vs, tt.want)
		})
	}
	if vs := Validate(nil); len(vs) != 1 || vs[0].Field != "contract" {
		t.Errorf("Validate(nil) = %v", vs)
	}
}
