package contract

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// ODCS identification of the documents ParseODCS reads and ExportODCS writes.
const (
	ODCSAPIVersion = "v3.1.0"
	ODCSKind       = "DataContract"
	// ODCSEngine is the `engine` of the custom quality rules that carry the
	// rule types ODCS v3.1 has no library metric for (range, freshness).
	ODCSEngine = "aifactory"
)

// maxParseDepth bounds the nesting of properties ParseODCS follows; deeper
// documents are rejected before Validate sees them (Validate allows
// MaxDepth).
const maxParseDepth = 64

// ParseError is a rejected ODCS document: Field is the dotted path of the
// offending element ("schema[0].properties[2].logicalType"), empty for
// document-wide problems.
type ParseError struct {
	Field       string
	Description string
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return "odcs: " + e.Description
	}
	return "odcs: " + e.Field + ": " + e.Description
}

func perr(field, format string, args ...any) error {
	return &ParseError{Field: field, Description: fmt.Sprintf(format, args...)}
}

// ParseODCS reads an ODCS v3.1 YAML document into a Contract. It returns
// the dotted paths of the elements present in the input that the Contract
// does not model (or models only after normalising, like status
// "proposed"), in document order; they are not part of the result. Errors
// are *ParseError and name the offending field. The result is not
// validated: call Validate.
func ParseODCS(data []byte) (*catalogv1.Contract, []string, error) {
	if len(data) > MaxYAMLBytes {
		return nil, nil, perr("", "document is %d bytes, more than the limit of %d", len(data), MaxYAMLBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, perr("", "empty document")
		}
		return nil, nil, perr("", "invalid YAML: %v", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, nil, perr("", "expected one YAML document, found more")
	}
	if len(doc.Content) != 1 {
		return nil, nil, perr("", "empty document")
	}
	p := &parser{}
	c, err := p.contract(doc.Content[0])
	if err != nil {
		return nil, nil, err
	}
	return c, p.unmodeled, nil
}

type parser struct {
	unmodeled []string
}

func (p *parser) skip(path string) { p.unmodeled = append(p.unmodeled, path) }

// skipUnknown records an element the contract does not model, unless it
// holds no information (null, an empty list or mapping).
func (p *parser) skipUnknown(path string, n *yaml.Node) {
	if isEmpty(n) {
		return
	}
	p.skip(path)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func isEmpty(n *yaml.Node) bool {
	return isNull(n) || (n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode) && len(n.Content) == 0
}

type pair struct {
	key  string
	val  *yaml.Node
	path string
}

// mapping returns the entries of a mapping node in document order.
func mapping(n *yaml.Node, path string) ([]pair, error) {
	if n.Kind == yaml.AliasNode {
		return nil, perr(path, "YAML aliases are not supported")
	}
	if n.Kind != yaml.MappingNode {
		return nil, perr(path, "expected a mapping")
	}
	seen := map[string]bool{}
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, perr(path, "mapping keys must be strings")
		}
		kp := k.Value
		if path != "" {
			kp = path + "." + k.Value
		}
		if seen[k.Value] {
			return nil, perr(kp, "duplicate key")
		}
		seen[k.Value] = true
		if v.Kind == yaml.AliasNode {
			return nil, perr(kp, "YAML aliases are not supported")
		}
		out = append(out, pair{key: k.Value, val: v, path: kp})
	}
	return out, nil
}

func sequence(n *yaml.Node, path string) ([]*yaml.Node, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, perr(path, "expected a list")
	}
	for i, e := range n.Content {
		if e.Kind == yaml.AliasNode {
			return nil, perr(fmt.Sprintf("%s[%d]", path, i), "YAML aliases are not supported")
		}
	}
	return n.Content, nil
}

func str(n *yaml.Node, path string) (string, error) {
	if isNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", perr(path, "expected a string")
	}
	return n.Value, nil
}

func strList(n *yaml.Node, path string) ([]string, error) {
	items, err := sequence(n, path)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, e := range items {
		if e.Kind != yaml.ScalarNode || isNull(e) {
			return nil, perr(fmt.Sprintf("%s[%d]", path, i), "expected a string")
		}
		out = append(out, e.Value)
	}
	return out, nil
}

func boolean(n *yaml.Node, path string) (bool, error) {
	if isNull(n) {
		return false, nil
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		return false, perr(path, "expected true or false")
	}
	return b, nil
}

func integer(n *yaml.Node, path string) (int64, error) {
	var i int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&i) != nil {
		return 0, perr(path, "expected an integer")
	}
	return i, nil
}

func int32Val(n *yaml.Node, path string) (int32, error) {
	i, err := integer(n, path)
	if err != nil {
		return 0, err
	}
	if i < math.MinInt32 || i > math.MaxInt32 {
		return 0, perr(path, "%d is out of range", i)
	}
	return int32(i), nil
}

// number decodes an int or float scalar; ok is false for anything else.
func number(n *yaml.Node) (float64, bool) {
	var f float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil {
		return 0, false
	}
	return f, true
}

// decimalRE is the plain decimal notation exactDecimal accepts; the
// exponent is bounded so that big.Rat stays small.
var decimalRE = regexp.MustCompile(`^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?$`)

// exactDecimal reads an int or float scalar as an exact rational.
func exactDecimal(n *yaml.Node) (*big.Rat, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || len(n.Value) > 64 || !decimalRE.MatchString(n.Value) {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(n.Value)
	return r, ok
}

func (p *parser) contract(root *yaml.Node) (*catalogv1.Contract, error) {
	if root.Kind != yaml.MappingNode {
		return nil, perr("", "the document must be a mapping of ODCS fields")
	}
	entries, err := mapping(root, "")
	if err != nil {
		return nil, err
	}
	c := &catalogv1.Contract{}
	var apiVersion, kind string
	for _, e := range entries {
		var err error
		switch e.key {
		case "apiVersion":
			apiVersion, err = str(e.val, e.path)
		case "kind":
			kind, err = str(e.val, e.path)
		case "id":
			c.Id, err = str(e.val, e.path)
		case "name":
			c.Name, err = str(e.val, e.path)
		case "version":
			c.Version, err = str(e.val, e.path)
		case "status":
			c.Status, err = p.status(e.val, e.path)
		case "domain":
			c.Domain, err = str(e.val, e.path)
		case "dataProduct":
			c.Product, err = str(e.val, e.path)
		case "tenant":
			c.Tenant, err = str(e.val, e.path)
		case "tags":
			c.Tags, err = strList(e.val, e.path)
		case "contractCreatedTs":
			c.ContractCreatedTs, err = str(e.val, e.path)
		case "description":
			err = p.description(c, e.val, e.path)
		case "schema":
			c.Schema, err = p.schema(e.val, e.path)
		case "slaProperties":
			c.Sla, err = p.sla(e.val, e.path)
		default:
			// servers, team, roles, support, price, authoritativeDefinitions,
			// customProperties, slaDefaultElement and unknown keys.
			p.skipUnknown(e.path, e.val)
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case apiVersion == "":
		return nil, perr("apiVersion", "is required and must be %q", ODCSAPIVersion)
	case apiVersion != ODCSAPIVersion:
		return nil, perr("apiVersion", "unsupported ODCS version %q, expected %q", apiVersion, ODCSAPIVersion)
	case kind == "":
		return nil, perr("kind", "is required and must be %q", ODCSKind)
	case kind != ODCSKind:
		return nil, perr("kind", "must be %q, got %q", ODCSKind, kind)
	}
	return c, nil
}

var statusByName = map[string]catalogv1.ContractStatus{
	"draft":      catalogv1.ContractStatus_CONTRACT_STATUS_DRAFT,
	"active":     catalogv1.ContractStatus_CONTRACT_STATUS_ACTIVE,
	"deprecated": catalogv1.ContractStatus_CONTRACT_STATUS_DEPRECATED,
	"retired":    catalogv1.ContractStatus_CONTRACT_STATUS_RETIRED,
}

func (p *parser) status(n *yaml.Node, path string) (catalogv1.ContractStatus, error) {
	s, err := str(n, path)
	if err != nil || s == "" {
		return 0, err
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "proposed" {
		// ODCS "proposed" has no lifecycle state of its own here: a draft.
		p.skip(path)
		return catalogv1.ContractStatus_CONTRACT_STATUS_DRAFT, nil
	}
	st, ok := statusByName[s]
	if !ok {
		return 0, perr(path, "unknown status %q (expected proposed, draft, active, deprecated or retired)", s)
	}
	return st, nil
}

func (p *parser) description(c *catalogv1.Contract, n *yaml.Node, path string) error {
	if isNull(n) {
		return nil
	}
	entries, err := mapping(n, path)
	if err != nil {
		return perr(path, "expected a mapping with purpose, usage and limitations")
	}
	for _, e := range entries {
		switch e.key {
		case "purpose":
			c.Purpose, err = str(e.val, e.path)
		case "usage":
			c.Usage, err = str(e.val, e.path)
		case "limitations":
			c.Limitations, err = str(e.val, e.path)
		default:
			p.skipUnknown(e.path, e.val)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) schema(n *yaml.Node, path string) ([]*catalogv1.SchemaObject, error) {
	items, err := sequence(n, path)
	if err != nil {
		return nil, err
	}
	var out []*catalogv1.SchemaObject
	for i, it := range items {
		o, err := p.object(it, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (p *parser) object(n *yaml.Node, path string) (*catalogv1.SchemaObject, error) {
	entries, err := mapping(n, path)
	if err != nil {
		return nil, err
	}
	o := &catalogv1.SchemaObject{}
	for _, e := range entries {
		switch e.key {
		case "name":
			o.Name, err = str(e.val, e.path)
		case "physicalName":
			o.PhysicalName, err = str(e.val, e.path)
		case "physicalType":
			o.PhysicalType, err = str(e.val, e.path)
		case "businessName":
			o.BusinessName, err = str(e.val, e.path)
		case "description":
			o.Description, err = str(e.val, e.path)
		case "tags":
			o.Tags, err = strList(e.val, e.path)
		case "logicalType":
			// Always "object" for a schema object; anything else is not
			// modeled.
			var lt string
			if lt, err = str(e.val, e.path); err == nil && lt != "" && lt != "object" {
				p.skip(e.path)
			}
		case "properties":
			o.Properties, err = p.fields(e.val, e.path, 1)
		case "quality":
			o.Quality, err = p.qualityRules(e.val, e.path, false)
		default:
			// id, dataGranularityDescription, relationships,
			// authoritativeDefinitions, customProperties, ...
			p.skipUnknown(e.path, e.val)
		}
		if err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (p *parser) fields(n *yaml.Node, path string, depth int) ([]*catalogv1.Field, error) {
	items, err := sequence(n, path)
	if err != nil {
		return nil, err
	}
	var out []*catalogv1.Field
	for i, it := range items {
		f, err := p.field(it, fmt.Sprintf("%s[%d]", path, i), depth)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

var logicalTypeByName = map[string]catalogv1.LogicalType{
	"string":    catalogv1.LogicalType_LOGICAL_TYPE_STRING,
	"integer":   catalogv1.LogicalType_LOGICAL_TYPE_INTEGER,
	"number":    catalogv1.LogicalType_LOGICAL_TYPE_NUMBER,
	"boolean":   catalogv1.LogicalType_LOGICAL_TYPE_BOOLEAN,
	"date":      catalogv1.LogicalType_LOGICAL_TYPE_DATE,
	"timestamp": catalogv1.LogicalType_LOGICAL_TYPE_TIMESTAMP,
	"array":     catalogv1.LogicalType_LOGICAL_TYPE_ARRAY,
	"object":    catalogv1.LogicalType_LOGICAL_TYPE_OBJECT,
}

var classificationByName = map[string]catalogv1.Classification{
	"public":       catalogv1.Classification_CLASSIFICATION_PUBLIC,
	"internal":     catalogv1.Classification_CLASSIFICATION_INTERNAL,
	"confidential": catalogv1.Classification_CLASSIFICATION_CONFIDENTIAL,
	"pii":          catalogv1.Classification_CLASSIFICATION_PII,
}

// physicalDecimalRE reads precision and scale from a physical type such as
// DECIMAL(10,2) or numeric(12, 4).
var physicalDecimalRE = regexp.MustCompile(`(?i)^\s*(?:decimal|numeric|number)\s*\(\s*([0-9]{1,9})\s*(?:,\s*([0-9]{1,9})\s*)?\)\s*$`)

func (p *parser) field(n *yaml.Node, path string, depth int) (*catalogv1.Field, error) {
	if depth > maxParseDepth {
		return nil, perr(path, "properties are nested more than %d levels deep", maxParseDepth)
	}
	entries, err := mapping(n, path)
	if err != nil {
		return nil, err
	}
	f := &catalogv1.Field{}
	var options *pair
	var typeName string
	for _, e := range entries {
		switch e.key {
		case "name":
			f.Name, err = str(e.val, e.path)
		case "logicalType":
			if typeName, err = str(e.val, e.path); err == nil && typeName != "" {
				t, ok := logicalTypeByName[typeName]
				switch {
				case ok:
					f.LogicalType = t
				case typeName == "time":
					// ODCS time has no logical type here: kept as a string.
					f.LogicalType = catalogv1.LogicalType_LOGICAL_TYPE_STRING
					p.skip(e.path)
				default:
					err = perr(e.path, "unknown logical type %q (expected string, integer, number, boolean, date, timestamp, time, array or object)", typeName)
				}
			}
		case "physicalType":
			f.PhysicalType, err = str(e.val, e.path)
		case "description":
			f.Description, err = str(e.val, e.path)
		case "businessName":
			f.BusinessName, err = str(e.val, e.path)
		case "required":
			f.Required, err = boolean(e.val, e.path)
		case "unique":
			f.Unique, err = boolean(e.val, e.path)
		case "primaryKey":
			f.PrimaryKey, err = boolean(e.val, e.path)
		case "primaryKeyPosition":
			if !isNull(e.val) {
				f.PrimaryKeyPosition, err = int32Val(e.val, e.path)
				if f.PrimaryKeyPosition == -1 { // the ODCS default: not in the key
					f.PrimaryKeyPosition = 0
				}
			}
		case "classification":
			var s string
			if s, err = str(e.val, e.path); err == nil && s != "" {
				cl, ok := classificationByName[strings.ToLower(strings.TrimSpace(s))]
				if !ok {
					// Guessing would risk under-protecting sensitive data.
					err = perr(e.path, "unknown classification %q (expected public, internal, confidential or pii)", s)
				}
				f.Classification = cl
			}
		case "criticalDataElement":
			f.CriticalDataElement, err = boolean(e.val, e.path)
		case "tags":
			f.Tags, err = strList(e.val, e.path)
		case "examples":
			f.Examples, err = p.scalars(e.val, e.path)
		case "logicalTypeOptions":
			options = &e
		case "properties":
			f.Properties, err = p.fields(e.val, e.path, depth+1)
		case "items":
			if !isNull(e.val) {
				f.Items, err = p.field(e.val, e.path, depth+1)
			}
		case "quality":
			f.Quality, err = p.qualityRules(e.val, e.path, true)
		case "partitioned":
			if b, _ := boolean(e.val, e.path); b {
				p.skip(e.path)
			}
		case "partitionKeyPosition":
			if i, ierr := integer(e.val, e.path); ierr != nil || i != -1 {
				p.skipUnknown(e.path, e.val)
			}
		default:
			// physicalName, authoritativeDefinitions, customProperties,
			// relationships, encryptedName, transform*, id, ...
			p.skipUnknown(e.path, e.val)
		}
		if err != nil {
			return nil, err
		}
	}
	if options != nil {
		if err := p.typeOptions(f, options.val, options.path); err != nil {
			return nil, err
		}
	}
	if f.LogicalType == catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL {
		if m := physicalDecimalRE.FindStringSubmatch(f.PhysicalType); m != nil {
			if f.Precision == 0 {
				pr, _ := strconv.ParseInt(m[1], 10, 32)
				f.Precision = int32(pr)
			}
			if f.Scale == 0 && m[2] != "" {
				sc, _ := strconv.ParseInt(m[2], 10, 32)
				f.Scale = int32(sc)
			}
		}
	}
	return f, nil
}

// scalars reads a list of scalar values (examples) as strings; null and
// structured entries are not modeled.
func (p *parser) scalars(n *yaml.Node, path string) ([]string, error) {
	items, err := sequence(n, path)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, e := range items {
		if e.Kind != yaml.ScalarNode || isNull(e) {
			p.skip(fmt.Sprintf("%s[%d]", path, i))
			continue
		}
		out = append(out, e.Value)
	}
	return out, nil
}

// typeOptions reads logicalTypeOptions. A number with format "decimal" is
// a DECIMAL; its precision and scale come from the options, or else from a
// physicalType such as decimal(10,2).
func (p *parser) typeOptions(f *catalogv1.Field, n *yaml.Node, path string) error {
	if isNull(n) {
		return nil
	}
	entries, err := mapping(n, path)
	if err != nil {
		return err
	}
	var precision, scale *pair
	for _, e := range entries {
		switch e.key {
		case "format":
			var s string
			if s, err = str(e.val, e.path); err == nil {
				if f.LogicalType == catalogv1.LogicalType_LOGICAL_TYPE_NUMBER && strings.EqualFold(s, "decimal") {
					f.LogicalType = catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL
				} else {
					f.Format = s
				}
			}
		case "precision":
			precision = &e
		case "scale":
			scale = &e
		case "pattern":
			f.Pattern, err = str(e.val, e.path)
		case "minimum", "maximum":
			if isNull(e.val) {
				continue
			}
			// Dates and timestamps bound with strings, not modeled.
			v, ok := number(e.val)
			if !ok {
				p.skip(e.path)
				continue
			}
			if e.key == "minimum" {
				f.Minimum = &v
			} else {
				f.Maximum = &v
			}
		case "minLength", "maxLength":
			if isNull(e.val) {
				continue
			}
			var v int64
			if v, err = integer(e.val, e.path); err == nil {
				if e.key == "minLength" {
					f.MinLength = &v
				} else {
					f.MaxLength = &v
				}
			}
		case "enum":
			// An aifactory extension: ODCS v3.1 has no enum option (v3.2
			// adds a property-level enum).
			f.Enum, err = strList(e.val, e.path)
		default:
			// exclusiveMinimum, exclusiveMaximum, multipleOf, timezone,
			// defaultTimezone, minItems, maxItems, uniqueItems, ...
			p.skipUnknown(e.path, e.val)
		}
		if err != nil {
			return err
		}
	}
	for _, o := range []struct {
		e   *pair
		dst *int32
	}{{precision, &f.Precision}, {scale, &f.Scale}} {
		if o.e == nil || isNull(o.e.val) {
			continue
		}
		if f.LogicalType != catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL {
			p.skip(o.e.path)
			continue
		}
		if *o.dst, err = int32Val(o.e.val, o.e.path); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) sla(n *yaml.Node, path string) (*catalogv1.Sla, error) {
	items, err := sequence(n, path)
	if err != nil {
		return nil, err
	}
	sla := &catalogv1.Sla{}
	seen := map[string]bool{}
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		entries, err := mapping(it, ip)
		if err != nil {
			return nil, err
		}
		var prop string
		var value, unit *pair
		var others []pair
		for _, e := range entries {
			switch e.key {
			case "property":
				if prop, err = str(e.val, e.path); err != nil {
					return nil, err
				}
			case "value":
				value = &e
			case "unit":
				unit = &e
			default: // element, driver, description, valueExt, scheduler, schedule
				others = append(others, e)
			}
		}
		var dst *int64
		canonical := ""
		switch strings.ToLower(prop) {
		case "latency", "ly", "freshness":
			dst, canonical = &sla.MaxFreshnessSeconds, "latency"
		case "frequency", "fy":
			dst, canonical = &sla.UpdateFrequencySeconds, "frequency"
		case "retention", "re":
			dst, canonical = &sla.RetentionSeconds, "retention"
		}
		var secs int64
		ok := dst != nil && value != nil && unit != nil
		if ok {
			secs, ok = durationSeconds(value.val, unit.val)
		}
		if !ok {
			// availability, generalAvailability, timeOfAvailability, ...,
			// or a value or unit that is not a whole number of seconds.
			p.skip(ip)
			continue
		}
		if seen[canonical] {
			return nil, perr(ip, "duplicate SLA property %s", canonical)
		}
		seen[canonical] = true
		*dst = secs
		for _, e := range others {
			p.skipUnknown(e.path, e.val)
		}
	}
	if sla.MaxFreshnessSeconds == 0 && sla.UpdateFrequencySeconds == 0 && sla.RetentionSeconds == 0 {
		return nil, nil
	}
	return sla, nil
}

// unitSeconds are the SLA units ParseODCS understands (case-insensitive); a
// year is 365 days.
var unitSeconds = map[string]int64{
	"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
	"m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
	"h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
	"d": 86400, "day": 86400, "days": 86400,
	"w": 7 * 86400, "wk": 7 * 86400, "week": 7 * 86400, "weeks": 7 * 86400,
	"y": 365 * 86400, "yr": 365 * 86400, "yrs": 365 * 86400, "year": 365 * 86400, "years": 365 * 86400,
}

func durationSeconds(value, unit *yaml.Node) (int64, bool) {
	if unit.Kind != yaml.ScalarNode {
		return 0, false
	}
	mult, ok := unitSeconds[strings.ToLower(strings.TrimSpace(unit.Value))]
	if !ok {
		return 0, false
	}
	r, ok := exactDecimal(value)
	if !ok {
		return 0, false
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// Quality rules. ODCS v3.1 library metrics cover most rule types; range
// and freshness have none and travel as custom rules of engine aifactory.
// The mapping (both ways):
//
//	not_null         metric nullValues       mustBe 0, or mustBeLessOrEqualTo <tolerance×100> unit percent
//	unique           metric duplicateValues  same operators as not_null
//	accepted_values  metric invalidValues    arguments.validValues, mustBe 0
//	regex            metric invalidValues    arguments.pattern, mustBe 0
//	row_count        metric rowCount         mustBe, mustBeBetween, mustBeGreaterOrEqualTo, mustBeLessOrEqualTo
//	                                         (mustBeGreaterThan n / mustBeLessThan n read as n+1 / n-1)
//	range            type custom, engine aifactory, implementation {type: range, minimum, maximum}
//	freshness        type custom, engine aifactory, implementation {type: freshness, maxAgeSeconds}
var defaultDimension = map[catalogv1.QualityRuleType]string{
	catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL:        "completeness",
	catalogv1.QualityRuleType_QUALITY_RULE_TYPE_UNIQUE:          "uniqueness",
	catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ACCEPTED_VALUES: "conformity",
	catalogv1.QualityRuleType_QUALITY_RULE_TYPE_REGEX:           "conformity",
	catalogv1.QualityRuleType_QUALITY_RULE_TYPE_RANGE:           "accuracy",
	catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ROW_COUNT:       "completeness",
	catalogv1.QualityRuleType_QUALITY_RULE_TYPE_FRESHNESS:       "timeliness",
}

var operators = []string{"mustBe", "mustNotBe", "mustBeGreaterThan", "mustBeGreaterOrEqualTo", "mustBeLessThan", "mustBeLessOrEqualTo", "mustBeBetween", "mustNotBeBetween"}

func (p *parser) qualityRules(n *yaml.Node, path string, onField bool) ([]*catalogv1.QualityRule, error) {
	items, err := sequence(n, path)
	if err != nil {
		return nil, err
	}
	var out []*catalogv1.QualityRule
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		q, skipped, err := qualityRule(it, ip, onField)
		if err != nil {
			return nil, err
		}
		if q == nil {
			p.skip(ip) // the whole rule is not modeled
			continue
		}
		p.unmodeled = append(p.unmodeled, skipped...)
		out = append(out, q)
	}
	return out, nil
}

// qualityRule maps one ODCS quality entry. It returns nil when the entry as
// a whole has no equivalent, and otherwise the paths of its sub-elements
// that are not modeled.
func qualityRule(n *yaml.Node, path string, onField bool) (*catalogv1.QualityRule, []string, error) {
	entries, err := mapping(n, path)
	if err != nil {
		return nil, nil, err
	}
	q := &catalogv1.QualityRule{}
	byKey := map[string]pair{}
	var typ, metric, engine, dimension, unit string
	var ops []pair
	var skipped []string
	for _, e := range entries {
		var err error
		switch e.key {
		case "type":
			typ, err = str(e.val, e.path)
		case "metric":
			metric, err = str(e.val, e.path)
		case "engine":
			engine, err = str(e.val, e.path)
		case "name":
			q.Name, err = str(e.val, e.path)
		case "description":
			q.Description, err = str(e.val, e.path)
		case "severity":
			q.Severity, err = str(e.val, e.path)
		case "dimension":
			dimension, err = str(e.val, e.path)
		case "unit":
			unit, err = str(e.val, e.path)
		case "arguments", "implementation":
			byKey[e.key] = e
		default:
			if isOperator(e.key) {
				if !isNull(e.val) {
					ops = append(ops, e)
				}
				continue
			}
			// businessImpact, schedule, scheduler, method, tags,
			// customProperties, authoritativeDefinitions, query, rule, ...
			if !isEmpty(e.val) {
				skipped = append(skipped, e.path)
			}
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if typ == "" && metric != "" {
		typ = "library"
	}
	var ok bool
	switch {
	case typ == "library":
		ok, skipped = libraryRule(q, metric, unit, ops, byKey, onField, skipped)
	case typ == "custom" && engine == ODCSEngine && len(ops) == 0 && byKey["arguments"].val == nil:
		ok, skipped = customRule(q, byKey["implementation"], onField, skipped)
	}
	if !ok {
		return nil, nil, nil
	}
	if dimension != "" && dimension != defaultDimension[q.Type] {
		skipped = append(skipped, path+".dimension")
	}
	return q, skipped, nil
}

func isOperator(k string) bool {
	for _, o := range operators {
		if k == o {
			return true
		}
	}
	return false
}

func libraryRule(q *catalogv1.QualityRule, metric, unit string, ops []pair, byKey map[string]pair, onField bool, skipped []string) (bool, []string) {
	if byKey["implementation"].val != nil || len(ops) != 1 {
		return false, nil
	}
	op := ops[0]
	args := map[string]pair{}
	if a := byKey["arguments"]; a.val != nil && !isNull(a.val) {
		entries, err := mapping(a.val, a.path)
		if err != nil {
			return false, nil
		}
		for _, e := range entries {
			args[e.key] = e
		}
	}
	// mustBe 0 or mustBeLessOrEqualTo 0: no failing rows at all.
	zero := func() bool {
		v, ok := number(op.val)
		return ok && v == 0 && (op.key == "mustBe" || op.key == "mustBeLessOrEqualTo")
	}
	switch metric {
	case "nullValues", "duplicateValues":
		if !onField || len(args) > 0 {
			return false, nil
		}
		q.Type = catalogv1.QualityRuleType_QUALITY_RULE_TYPE_NOT_NULL
		if metric == "duplicateValues" {
			q.Type = catalogv1.QualityRuleType_QUALITY_RULE_TYPE_UNIQUE
		}
		switch {
		case zero() && (unit == "" || unit == "rows" || unit == "percent"):
		case op.key == "mustBeLessOrEqualTo" && unit == "percent":
			r, ok := exactDecimal(op.val)
			if !ok {
				return false, nil
			}
			q.Tolerance, _ = r.Quo(r, big.NewRat(100, 1)).Float64()
		default:
			return false, nil
		}
	case "invalidValues":
		if !onField || !zero() || len(args) != 1 || (unit != "" && unit != "rows" && unit != "percent") {
			return false, nil
		}
		if a, ok := args["validValues"]; ok {
			items, err := sequence(a.val, a.path)
			if err != nil || len(items) == 0 {
				return false, nil
			}
			for _, it := range items {
				if it.Kind != yaml.ScalarNode || isNull(it) {
					return false, nil
				}
				q.Values = append(q.Values, it.Value)
			}
			q.Type = catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ACCEPTED_VALUES
		} else if a, ok := args["pattern"]; ok {
			s, err := str(a.val, a.path)
			if err != nil || s == "" {
				return false, nil
			}
			q.Type, q.Pattern = catalogv1.QualityRuleType_QUALITY_RULE_TYPE_REGEX, s
		} else {
			return false, nil
		}
	case "rowCount":
		if onField || len(args) > 0 || (unit != "" && unit != "rows") {
			return false, nil
		}
		q.Type = catalogv1.QualityRuleType_QUALITY_RULE_TYPE_ROW_COUNT
		if op.key == "mustBeBetween" {
			items, err := sequence(op.val, op.path)
			if err != nil || len(items) != 2 {
				return false, nil
			}
			lo, ok1 := number(items[0])
			hi, ok2 := number(items[1])
			if !ok1 || !ok2 {
				return false, nil
			}
			q.Min, q.Max = &lo, &hi
			break
		}
		v, ok := number(op.val)
		if !ok {
			return false, nil
		}
		// Row counts are whole numbers: > n is >= n+1 and < n is <= n-1.
		integral := v == math.Trunc(v) && math.Abs(v) < 1<<53
		switch {
		case op.key == "mustBe":
			q.Min, q.Max = &v, &v
		case op.key == "mustBeGreaterOrEqualTo":
			q.Min = &v
		case op.key == "mustBeLessOrEqualTo":
			q.Max = &v
		case op.key == "mustBeGreaterThan" && integral:
			v++
			q.Min = &v
		case op.key == "mustBeLessThan" && integral:
			v--
			q.Max = &v
		default:
			return false, nil
		}
	default: // missingValues and unknown metrics
		return false, nil
	}
	return true, skipped
}

func customRule(q *catalogv1.QualityRule, impl pair, onField bool, skipped []string) (bool, []string) {
	if impl.val == nil {
		return false, nil
	}
	entries, err := mapping(impl.val, impl.path)
	if err != nil {
		return false, nil
	}
	var kind string
	var rest []pair
	for _, e := range entries {
		if e.key == "type" {
			kind, _ = str(e.val, e.path)
			continue
		}
		rest = append(rest, e)
	}
	switch kind {
	case "range":
		if !onField {
			return false, nil
		}
		q.Type = catalogv1.QualityRuleType_QUALITY_RULE_TYPE_RANGE
		for _, e := range rest {
			switch e.key {
			case "minimum", "maximum":
				v, ok := number(e.val)
				if !ok {
					return false, nil
				}
				if e.key == "minimum" {
					q.Min = &v
				} else {
					q.Max = &v
				}
			default:
				skipped = append(skipped, e.path)
			}
		}
		if q.Min == nil && q.Max == nil {
			return false, nil
		}
	case "freshness":
		q.Type = catalogv1.QualityRuleType_QUALITY_RULE_TYPE_FRESHNESS
		for _, e := range rest {
			switch e.key {
			case "maxAgeSeconds":
				v, err := integer(e.val, e.path)
				if err != nil || v == 0 {
					return false, nil
				}
				q.MaxAgeSeconds = v
			default:
				skipped = append(skipped, e.path)
			}
		}
		if q.MaxAgeSeconds == 0 {
			return false, nil
		}
	default:
		return false, nil
	}
	return true, skipped
}
