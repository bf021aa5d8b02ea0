package output

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/enums"
)

// DomainsTable lists domains, one per row.
func DomainsTable(w io.Writer, ds []*catalogv1.Domain) error {
	rows := make([][]string, 0, len(ds))
	for _, d := range ds {
		rows = append(rows, []string{
			d.GetName(), Truncate(d.GetDescription(), 48), List(d.GetOwners()),
			strconv.Itoa(len(d.GetMembers())), Time(d.GetCreateTime()),
		})
	}
	return WriteTable(w, []string{"NAME", "DESCRIPTION", "OWNERS", "MEMBERS", "CREATED"}, rows)
}

// DomainDetail shows one domain with its owners and members.
func DomainDetail(w io.Writer, d *catalogv1.Domain) error {
	return WriteFields(w, [][2]string{
		{"Name", d.GetName()},
		{"Description", d.GetDescription()},
		{"Owners", List(d.GetOwners())},
		{"Members", List(d.GetMembers())},
		{"Created", Time(d.GetCreateTime())},
		{"Updated", Time(d.GetUpdateTime())},
	})
}

// ProductName is "domain/name".
func ProductName(p *catalogv1.DataProduct) string { return p.GetDomain() + "/" + p.GetName() }

// Compatibility names a mode, showing the server's default for unset.
func Compatibility(m catalogv1.CompatibilityMode) string {
	if m == catalogv1.CompatibilityMode_COMPATIBILITY_MODE_UNSPECIFIED {
		return "backward"
	}
	return enums.Name(m)
}

// ProductsTable lists data products, one per row.
func ProductsTable(w io.Writer, ps []*catalogv1.DataProduct) error {
	rows := make([][]string, 0, len(ps))
	for _, p := range ps {
		ports := make([]string, 0, len(p.GetOutputPorts()))
		for _, o := range p.GetOutputPorts() {
			ports = append(ports, o.GetName())
		}
		rows = append(rows, []string{
			ProductName(p), Truncate(p.GetTitle(), 40), enums.Name(p.GetStatus()),
			Compatibility(p.GetCompatibility()), p.GetOwner(), strings.Join(ports, ","),
			strings.Join(p.GetTags(), ","),
		})
	}
	return WriteTable(w, []string{"PRODUCT", "TITLE", "STATUS", "COMPATIBILITY", "OWNER", "PORTS", "TAGS"}, rows)
}

// ProductDetail shows one data product, the domains granted read access
// to it, and its output ports.
func ProductDetail(w io.Writer, p *catalogv1.DataProduct) error {
	classes := make([]string, 0, len(p.GetClassifications()))
	for _, c := range p.GetClassifications() {
		classes = append(classes, enums.Name(c))
	}
	if err := WriteFields(w, [][2]string{
		{"Product", ProductName(p)},
		{"Title", p.GetTitle()},
		{"Description", p.GetDescription()},
		{"Owner", p.GetOwner()},
		{"Status", enums.Name(p.GetStatus())},
		{"Compatibility", Compatibility(p.GetCompatibility())},
		{"Tags", List(p.GetTags())},
		{"Classifications", List(classes)},
		{"Grants", List(p.GetGrants())},
		{"Fields", count(len(p.GetFieldNames()))},
		{"Freshness", ProductFreshness(p.GetFreshness())},
		{"Created", Time(p.GetCreateTime())},
		{"Updated", Time(p.GetUpdateTime())},
	}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if len(p.GetOutputPorts()) == 0 {
		_, err := fmt.Fprintln(w, "No output ports yet: publish a contract with `factoryctl catalog contract apply`.")
		return err
	}
	return PortsTable(w, p.GetOutputPorts())
}

// PortsTable lists output ports.
func PortsTable(w io.Writer, ports []*catalogv1.OutputPort) error {
	rows := make([][]string, 0, len(ports))
	for _, o := range ports {
		rows = append(rows, []string{
			o.GetName(), strconv.Itoa(int(o.GetMajor())), o.GetLatestVersion(),
			enums.Name(o.GetStatus()), o.GetSubject(),
		})
	}
	return WriteTable(w, []string{"PORT", "MAJOR", "LATEST", "STATUS", "SUBJECT"}, rows)
}

// ContractDetail shows a contract version's header and its field listing.
func ContractDetail(w io.Writer, c *catalogv1.Contract) error {
	var sla []string
	if s := c.GetSla(); s != nil {
		if v := s.GetMaxFreshnessSeconds(); v != 0 {
			sla = append(sla, "freshness "+seconds(v))
		}
		if v := s.GetUpdateFrequencySeconds(); v != 0 {
			sla = append(sla, "every "+seconds(v))
		}
		if v := s.GetRetentionSeconds(); v != 0 {
			sla = append(sla, "retention "+seconds(v))
		}
	}
	if err := WriteFields(w, [][2]string{
		{"Contract", c.GetId()},
		{"Product", c.GetDomain() + "/" + c.GetProduct()},
		{"Version", c.GetVersion()},
		{"Status", enums.Name(c.GetStatus())},
		{"Name", c.GetName()},
		{"Purpose", c.GetPurpose()},
		{"SLA", List(sla)},
		{"Created", strings.TrimSpace(Time(c.GetCreatedAt()) + " " + by(c.GetCreatedBy()))},
	}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return FieldsTable(w, c.GetSchema())
}

func by(who string) string {
	if who == "" {
		return ""
	}
	return "by " + who
}

// seconds formats a duration given in seconds: "90s", "15m", "2h30m", "7d".
func seconds(s int64) string {
	switch {
	case s%86400 == 0:
		return strconv.FormatInt(s/86400, 10) + "d"
	case s%3600 == 0:
		return strconv.FormatInt(s/3600, 10) + "h"
	case s%60 == 0:
		return strconv.FormatInt(s/60, 10) + "m"
	}
	return strconv.FormatInt(s, 10) + "s"
}

// FieldsTable lists every field of every schema object, one per row, by
// dotted path ("orders.customer.email"; array elements as "lines[]"), with
// type, required, primary key position and classification.
func FieldsTable(w io.Writer, objs []*catalogv1.SchemaObject) error {
	var rows [][]string
	for _, o := range objs {
		rows = appendFieldRows(rows, o.GetName(), o.GetProperties())
	}
	return WriteTable(w, []string{"FIELD", "TYPE", "PHYSICAL", "REQUIRED", "PK", "CLASSIFICATION"}, rows)
}

func appendFieldRows(rows [][]string, parent string, fs []*catalogv1.Field) [][]string {
	for _, f := range fs {
		rows = appendField(rows, parent+"."+f.GetName(), f)
	}
	return rows
}

func appendField(rows [][]string, path string, f *catalogv1.Field) [][]string {
	pk := ""
	switch {
	case f.GetPrimaryKeyPosition() > 0:
		pk = strconv.Itoa(int(f.GetPrimaryKeyPosition()))
	case f.GetPrimaryKey():
		pk = "yes"
	}
	rows = append(rows, []string{
		path, fieldType(f), f.GetPhysicalType(), yes(f.GetRequired()), pk,
		enums.Name(f.GetClassification()),
	})
	rows = appendFieldRows(rows, path, f.GetProperties())
	if it := f.GetItems(); it != nil {
		// The element itself is a row only when it says more than its type,
		// which the array's TYPE already shows.
		if len(it.GetProperties()) > 0 || it.GetItems() != nil {
			rows = appendFieldRows(rows, path+"[]", it.GetProperties())
			if it.GetItems() != nil {
				rows = appendField(rows, path+"[][]", it.GetItems())
			}
		}
	}
	return rows
}

// fieldType is the logical type, with decimal precision and array element
// type spelled out: "decimal(12,2)", "array<string>".
func fieldType(f *catalogv1.Field) string {
	switch f.GetLogicalType() {
	case catalogv1.LogicalType_LOGICAL_TYPE_DECIMAL:
		if f.GetPrecision() > 0 {
			return fmt.Sprintf("decimal(%d,%d)", f.GetPrecision(), f.GetScale())
		}
	case catalogv1.LogicalType_LOGICAL_TYPE_ARRAY:
		if f.GetItems() != nil {
			return "array<" + fieldType(f.GetItems()) + ">"
		}
	}
	return enums.Name(f.GetLogicalType())
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// ContractVersionsTable lists contract versions, oldest first.
func ContractVersionsTable(w io.Writer, cs []*catalogv1.Contract) error {
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		n := 0
		for _, o := range c.GetSchema() {
			n += countFields(o.GetProperties())
		}
		rows = append(rows, []string{
			c.GetVersion(), enums.Name(c.GetStatus()), strconv.Itoa(n),
			Time(c.GetCreatedAt()), c.GetCreatedBy(),
		})
	}
	return WriteTable(w, []string{"VERSION", "STATUS", "FIELDS", "CREATED", "CREATED BY"}, rows)
}

func countFields(fs []*catalogv1.Field) int {
	n := len(fs)
	for _, f := range fs {
		n += countFields(f.GetProperties())
		if it := f.GetItems(); it != nil {
			n += countFields(it.GetProperties())
		}
	}
	return n
}

// ViolationsTable lists incompatible changes: field, rule, old → new, the
// version broken against, and the catalog's explanation.
func ViolationsTable(w io.Writer, vs []*catalogv1.Violation) error {
	rows := make([][]string, 0, len(vs))
	for _, v := range vs {
		rows = append(rows, []string{
			v.GetField(), v.GetRule(), Change(v.GetOldValue(), v.GetNewValue()),
			v.GetAgainstVersion(), v.GetDescription(),
		})
	}
	return WriteTable(w, []string{"FIELD", "RULE", "CHANGE", "AGAINST", "DESCRIPTION"}, rows)
}

// Change renders "old → new", with "(none)" for a missing side.
func Change(old, new string) string {
	if old == "" && new == "" {
		return ""
	}
	if old == "" {
		old = "(none)"
	}
	if new == "" {
		new = "(none)"
	}
	return old + " → " + new
}

// CompatibleSummary is the one-line verdict of a compatibility check,
// e.g. "compatible with 1.0.0, 1.1.0 under backward".
func CompatibleSummary(r *catalogv1.CheckCompatibilityResponse) string {
	mode := Compatibility(r.GetMode())
	verdict := "compatible"
	if !r.GetCompatible() {
		verdict = "not compatible (" + plural(len(r.GetViolations()), "violation") + ")"
	}
	if len(r.GetComparedVersions()) == 0 {
		return verdict + ": no earlier version in this major to compare with"
	}
	return fmt.Sprintf("%s with %s under %s", verdict, List(r.GetComparedVersions()), mode)
}

// plural is "1 violation", "2 violations".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// WriteViolations lists violations under an error message, one aligned,
// indented line each:
//
//   - orders.customer.email  field_removed  string → (none)  against 1.0.0  the field is gone
func WriteViolations(w io.Writer, vs []*catalogv1.Violation) error {
	lines := make([][]string, 0, len(vs))
	for _, v := range vs {
		against := ""
		if av := v.GetAgainstVersion(); av != "" {
			against = "against " + av
		}
		lines = append(lines, []string{"  - " + v.GetField(), v.GetRule(), Change(v.GetOldValue(), v.GetNewValue()), against, v.GetDescription()})
	}
	return writeAligned(w, lines)
}

// count is n, or "" (left out) for zero.
func count(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// ProductFreshness renders the freshness ingestion last reported for a
// product ("" when none was).
func ProductFreshness(f *catalogv1.Freshness) string {
	if f == nil {
		return ""
	}
	verdict := "OK"
	if f.GetBreached() {
		verdict = "BREACHED"
	}
	return fmt.Sprintf("%s (%s old, SLA %s; checked %s)", verdict, Age(f.GetFreshnessSeconds()), Age(f.GetMaxFreshnessSeconds()), Time(f.GetObservedAt()))
}
