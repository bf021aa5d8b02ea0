package output

import (
	"fmt"
	"github.com/aifactory/aifactory/services/featurestore/columns"
	"io"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/enums"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/progress"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/trainingset"
)

// ChangesTable lists the changes of a features apply, planned or made.
func ChangesTable(w io.Writer, cs []*featurestorev1.Change) error {
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, []string{c.GetKind(), c.GetName(), c.GetAction(), version(c.GetVersion()), strings.Join(c.GetDetails(), "; ")})
	}
	return WriteTable(w, []string{"KIND", "NAME", "ACTION", "VERSION", "DETAILS"}, rows)
}

func version(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// JoinKeys lists join keys as "name:type".
func JoinKeys(ks []*featurestorev1.JoinKey) string {
	parts := make([]string, 0, len(ks))
	for _, k := range ks {
		parts = append(parts, k.GetName()+":"+enums.Name(k.GetType()))
	}
	return strings.Join(parts, ", ")
}

// EntitiesTable lists entities, one per row.
func EntitiesTable(w io.Writer, es []*featurestorev1.Entity) error {
	rows := make([][]string, 0, len(es))
	for _, e := range es {
		rows = append(rows, []string{e.GetName(), JoinKeys(e.GetJoinKeys()), e.GetDomain(), version(e.GetVersion()), Truncate(e.GetDescription(), 48)})
	}
	return WriteTable(w, []string{"NAME", "JOIN KEYS", "DOMAIN", "VERSION", "DESCRIPTION"}, rows)
}

// Source renders a feature view's source: "domain/product", with " (port)"
// when a port is pinned.
func Source(s *featurestorev1.Source) string {
	if s == nil {
		return ""
	}
	out := s.GetDomain() + "/" + s.GetProduct()
	if p := s.GetPort(); p != "" {
		out += " (" + p + ")"
	}
	return out
}

// TTL renders a view's time to live; 0 or unset means values never expire.
func TTL(d *durationpb.Duration) string {
	if d.AsDuration() <= 0 {
		return "never expires"
	}
	return Duration(d)
}

// Duration renders a duration in the largest whole unit: "7d", "36h",
// "90m", "45s"; "" when unset.
func Duration(d *durationpb.Duration) string {
	if d == nil {
		return ""
	}
	dd := d.AsDuration()
	if dd == 0 || dd%time.Second != 0 {
		return dd.String()
	}
	return seconds(int64(dd / time.Second))
}

// ViewsTable lists feature views, one per row.
func ViewsTable(w io.Writer, vs []*featurestorev1.FeatureView) error {
	rows := make([][]string, 0, len(vs))
	for _, v := range vs {
		rows = append(rows, []string{
			v.GetName(), v.GetEntity(), Source(v.GetSource()), strconv.Itoa(len(v.GetFeatures())),
			TTL(v.GetTtl()), v.GetDomain(), version(v.GetVersion()), strings.Join(v.GetTags(), ","),
		})
	}
	return WriteTable(w, []string{"NAME", "ENTITY", "SOURCE", "FEATURES", "TTL", "DOMAIN", "VERSION", "TAGS"}, rows)
}

// ServicesTable lists feature services, one per row.
func ServicesTable(w io.Writer, ss []*featurestorev1.FeatureService) error {
	rows := make([][]string, 0, len(ss))
	for _, s := range ss {
		rows = append(rows, []string{s.GetName(), strconv.Itoa(len(s.GetFeatures())), s.GetDomain(), version(s.GetVersion()), Truncate(s.GetDescription(), 48)})
	}
	return WriteTable(w, []string{"NAME", "FEATURES", "DOMAIN", "VERSION", "DESCRIPTION"}, rows)
}

// FeatureDefinitions lists entities, feature views and feature services in
// three sections, each under a heading; an empty section says so.
func FeatureDefinitions(w io.Writer, es []*featurestorev1.Entity, vs []*featurestorev1.FeatureView, ss []*featurestorev1.FeatureService) error {
	sections := []struct {
		title string
		n     int
		table func() error
	}{
		{"Entities", len(es), func() error { return EntitiesTable(w, es) }},
		{"Feature views", len(vs), func() error { return ViewsTable(w, vs) }},
		{"Feature services", len(ss), func() error { return ServicesTable(w, ss) }},
	}
	for i, s := range sections {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s:\n", s.title)
		if s.n == 0 {
			fmt.Fprintln(w, "  (none)")
			continue
		}
		if err := s.table(); err != nil {
			return err
		}
	}
	return nil
}

// FeatureSource is where a feature's value comes from: its expression, its
// record field (the feature's name by default), or "" for an aggregation
// that reads no input (count, days_since_last).
func FeatureSource(f *featurestorev1.Feature) string {
	if e := f.GetExpression(); e != "" {
		return e
	}
	if fl := f.GetField(); fl != "" {
		return fl
	}
	switch f.GetAggregation() {
	case featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT, featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_DAYS_SINCE_LAST:
		return ""
	}
	return f.GetName()
}

// ViewDetail shows a feature view and its features.
func ViewDetail(w io.Writer, v *featurestorev1.FeatureView) error {
	if err := WriteFields(w, [][2]string{
		{"Feature view", v.GetName()},
		{"Description", v.GetDescription()},
		{"Domain", v.GetDomain()},
		{"Version", version(v.GetVersion())},
		{"Entity", v.GetEntity()},
		{"Source", Source(v.GetSource())},
		{"Timestamp field", v.GetTimestampField()},
		{"TTL", TTL(v.GetTtl())},
		{"Tags", List(v.GetTags())},
		{"Updated", Time(v.GetUpdateTime())},
	}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(v.GetFeatures()))
	for _, f := range v.GetFeatures() {
		rows = append(rows, []string{f.GetName(), enums.Name(f.GetType()), FeatureSource(f), enums.Name(f.GetAggregation()), Duration(f.GetWindow())})
	}
	return WriteTable(w, []string{"NAME", "TYPE", "SOURCE", "AGGREGATION", "WINDOW"}, rows)
}

// ServiceDetail shows a feature service and the features it names.
func ServiceDetail(w io.Writer, s *featurestorev1.FeatureService) error {
	if err := WriteFields(w, [][2]string{
		{"Feature service", s.GetName()},
		{"Description", s.GetDescription()},
		{"Domain", s.GetDomain()},
		{"Version", version(s.GetVersion())},
		{"Updated", Time(s.GetUpdateTime())},
	}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(s.GetFeatures()))
	for _, ref := range s.GetFeatures() {
		view, feature, _ := strings.Cut(ref, ":")
		rows = append(rows, []string{view, feature})
	}
	return WriteTable(w, []string{"VIEW", "FEATURE"}, rows)
}

// Markers of feature values that are not there.
const (
	NotFoundMarker = "∅ not found"
	ExpiredMarker  = "∅ expired"
	NullMarker     = "∅"
)

// FeatureCell renders one feature value with its status: the value when
// present (NullMarker for a present null), NotFoundMarker or ExpiredMarker
// otherwise.
func FeatureCell(v *featurestorev1.Value, st featurestorev1.FeatureStatus) string {
	switch st {
	case featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND:
		return NotFoundMarker
	case featurestorev1.FeatureStatus_FEATURE_STATUS_EXPIRED:
		return ExpiredMarker
	}
	if s, ok := trainingset.Text(v); ok {
		return s
	}
	return NullMarker
}

// OnlineTable shows online features: one row per entity, its join key
// values (keyNames, in that order; keys[i] belongs to the i-th result)
// followed by each feature.
func OnlineTable(w io.Writer, keyNames []string, keys []map[string]*featurestorev1.Value, resp *featurestorev1.GetOnlineFeaturesResponse) error {
	header := append(append([]string{}, keyNames...), resp.GetFeatureNames()...)
	n := columns.Entities(resp)
	rows := make([][]string, 0, n)
	for i := range n {
		row := make([]string, 0, len(header))
		for _, k := range keyNames {
			var v *featurestorev1.Value
			if i < len(keys) {
				v = keys[i][k]
			}
			s, _ := trainingset.Text(v)
			row = append(row, s)
		}
		for _, c := range resp.GetColumns() {
			row = append(row, FeatureCell(columns.Value(c, i), columns.Status(c, i)))
		}
		rows = append(rows, row)
	}
	return WriteTable(w, header, rows)
}

// FeatureStats counts the statuses of one feature over a training set.
type FeatureStats struct {
	// Feature is "view:feature"; Column the column it was written to.
	Feature  string `json:"feature"`
	Column   string `json:"column"`
	Present  int64  `json:"present"`
	NotFound int64  `json:"notFound"`
	Expired  int64  `json:"expired"`
}

// HistoricalSummary is the result of `features historical`.
type HistoricalSummary struct {
	Entities string `json:"entities"`
	Out      string `json:"out"`
	Format   string `json:"format"`
	Rows     int64  `json:"rows"`
	// Columns is the number of columns of the training set: the input's
	// and one per feature.
	Columns         int            `json:"columns"`
	FeatureService  string         `json:"featureService,omitempty"`
	TimestampColumn string         `json:"timestampColumn"`
	Features        []FeatureStats `json:"features"`
	ElapsedSeconds  float64        `json:"elapsedSeconds"`
	RowsPerSecond   float64        `json:"rowsPerSecond"`
}

// HistoricalSummaryTable shows a training set's totals and, per feature,
// how many rows found a value.
func HistoricalSummaryTable(w io.Writer, s *HistoricalSummary) error {
	if err := WriteFields(w, [][2]string{
		{"Training set", s.Out + " (" + s.Format + ")"},
		{"Entity rows", s.Entities},
		{"Feature service", s.FeatureService},
		{"Rows", progress.Count(s.Rows)},
		{"Columns", strconv.Itoa(s.Columns)},
		{"Elapsed", elapsed(s.ElapsedSeconds)},
		{"Rows/s", progress.Count(int64(s.RowsPerSecond))},
	}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(s.Features))
	for _, f := range s.Features {
		rows = append(rows, []string{f.Column, progress.Count(f.Present), progress.Count(f.NotFound), progress.Count(f.Expired)})
	}
	return WriteTable(w, []string{"COLUMN", "PRESENT", "NOT FOUND", "EXPIRED"}, rows)
}

func elapsed(secs float64) string {
	return (time.Duration(secs * float64(time.Second))).Round(time.Millisecond).String()
}

// BackfillSummary is the result of `features backfill`.
type BackfillSummary struct {
	FeatureView      string  `json:"featureView"`
	Start            string  `json:"start,omitempty"`
	End              string  `json:"end,omitempty"`
	Read             int64   `json:"read"`
	Materialized     int64   `json:"materialized"`
	Skipped          int64   `json:"skipped"`
	LastSequence     uint64  `json:"lastSequence,omitempty"`
	Done             bool    `json:"done"`
	ElapsedSeconds   float64 `json:"elapsedSeconds"`
	RecordsPerSecond float64 `json:"recordsPerSecond"`
}

// BackfillSummaryTable shows a backfill's totals, one per line.
func BackfillSummaryTable(w io.Writer, s *BackfillSummary) error {
	rng := ""
	if s.Start != "" || s.End != "" {
		start, end := s.Start, s.End
		if start == "" {
			start = "beginning"
		}
		if end == "" {
			end = "now"
		}
		rng = start + " → " + end
	}
	return WriteFields(w, [][2]string{
		{"Feature view", s.FeatureView},
		{"Range", rng},
		{"Records read", progress.Count(s.Read)},
		{"Materialized", progress.Count(s.Materialized)},
		{"Skipped", progress.Count(s.Skipped)},
		{"Elapsed", elapsed(s.ElapsedSeconds)},
		{"Records/s", progress.Count(int64(s.RecordsPerSecond))},
	})
}
