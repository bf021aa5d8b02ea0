package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/enums"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/progress"
)

// PrintValue writes v, a plain Go value with JSON tags, in format f: its
// encoding/json form indented, the same as YAML, or for Table whatever
// table renders. It is Print for results that are not protobuf messages,
// such as the summary of a load.
func PrintValue(w io.Writer, f Format, v any, table func(io.Writer) error) error {
	switch f {
	case JSON, YAML:
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("marshal JSON: %w", err)
		}
		if f == JSON {
			_, err = w.Write(append(b, '\n'))
			return err
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("convert JSON to YAML: %w", err)
		}
		clearStyle(&doc)
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(&doc); err != nil {
			return fmt.Errorf("encode YAML: %w", err)
		}
		return enc.Close()
	default:
		return table(w)
	}
}

// LoadProblem is a record of a load that did not make it: unreadable by
// the client, rejected by the contract, or failed on the server.
type LoadProblem struct {
	Line int64 `json:"line"`
	// Outcome is "unreadable", "rejected" or "error".
	Outcome string `json:"outcome"`
	Detail  string `json:"detail,omitempty"`
	// Sequence is the quarantine sequence of a rejected record.
	Sequence uint64 `json:"quarantineSequence,omitempty"`
}

// IngestSummary is the result of `ingest file`.
type IngestSummary struct {
	File            string           `json:"file"`
	Product         string           `json:"product"`
	Port            string           `json:"port,omitempty"`
	RunID           string           `json:"runId"`
	ContractVersion string           `json:"contractVersion,omitempty"`
	Subject         string           `json:"subject,omitempty"`
	Resumed         bool             `json:"resumed,omitempty"`
	Reconnects      int              `json:"reconnects,omitempty"`
	Read            int64            `json:"read"`
	Stored          int64            `json:"stored"`
	Duplicates      int64            `json:"duplicates"`
	Rejected        int64            `json:"rejected"`
	RejectedByRule  map[string]int64 `json:"rejectedByRule,omitempty"`
	Unreadable      int64            `json:"unreadable"`
	Errors          int64            `json:"errors"`
	// ElapsedSeconds and RecordsPerSecond measure this invocation; the
	// counters above cover the whole load, across resumes.
	ElapsedSeconds   float64       `json:"elapsedSeconds"`
	RecordsPerSecond float64       `json:"recordsPerSecond"`
	Problems         []LoadProblem `json:"problems,omitempty"`
}

// IngestSummaryTable shows a load's totals, one per line.
func IngestSummaryTable(w io.Writer, s *IngestSummary) error {
	contract := s.ContractVersion
	if s.Port != "" && contract != "" {
		contract = s.Port + " (contract " + contract + ")"
	} else if s.Port != "" {
		contract = s.Port
	} else if contract != "" {
		contract = "contract " + contract
	}
	resumed := ""
	if s.Resumed {
		resumed = "yes"
	}
	reconnects := ""
	if s.Reconnects > 0 {
		reconnects = strconv.Itoa(s.Reconnects)
	}
	rejected := progress.Count(s.Rejected)
	if r := RuleCounts(s.RejectedByRule); r != "" {
		rejected += " (" + r + ")"
	}
	return WriteFields(w, [][2]string{
		{"File", s.File},
		{"Product", s.Product},
		{"Port", contract},
		{"Subject", s.Subject},
		{"Run", s.RunID},
		{"Resumed", resumed},
		{"Reconnects", reconnects},
		{"Records read", progress.Count(s.Read)},
		{"Stored", progress.Count(s.Stored)},
		{"Duplicates", progress.Count(s.Duplicates)},
		{"Rejected", rejected},
		{"Errors", progress.Count(s.Errors)},
		{"Elapsed", (time.Duration(s.ElapsedSeconds * float64(time.Second))).Round(time.Millisecond).String()},
		{"Records/s", progress.Count(int64(s.RecordsPerSecond))},
	})
}

// RuleCounts lists counts by rule, largest first, ties by name:
// "required 60, pattern 40".
func RuleCounts(m map[string]int64) string {
	rules := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(rules, func(a, b string) int {
		switch {
		case m[a] > m[b]:
			return -1
		case m[a] < m[b]:
			return 1
		}
		return 0
	})
	parts := make([]string, 0, len(rules))
	for _, r := range rules {
		parts = append(parts, r+" "+progress.Count(m[r]))
	}
	return strings.Join(parts, ", ")
}

// WriteProblems lists problems, one per line ("line 17: rejected:
// amount: minimum"), and when total is larger than len(ps) a last line
// saying how many more there were and how to see them.
func WriteProblems(w io.Writer, ps []LoadProblem, total int64, more string) {
	for _, p := range ps {
		seq := ""
		if p.Sequence != 0 {
			seq = fmt.Sprintf(" [quarantine #%d]", p.Sequence)
		}
		fmt.Fprintf(w, "line %d: %s: %s%s\n", p.Line, p.Outcome, oneLine(p.Detail), seq)
	}
	if extra := total - int64(len(ps)); extra > 0 {
		fmt.Fprintf(w, "… and %s more%s\n", progress.Count(extra), more)
	}
}

// Age formats a number of seconds roughly, in its two largest units:
// "45s", "12m", "3h5m", "2d4h".
func Age(secs int64) string {
	if secs < 0 {
		secs = 0
	}
	d, h, m, s := secs/86400, secs%86400/3600, secs%3600/60, secs%60
	switch {
	case d > 0:
		return join2(d, "d", h, "h")
	case h > 0:
		return join2(h, "h", m, "m")
	case m > 0:
		return join2(m, "m", s, "s")
	}
	return strconv.FormatInt(s, 10) + "s"
}

func join2(a int64, ua string, b int64, ub string) string {
	s := strconv.FormatInt(a, 10) + ua
	if b > 0 {
		s += strconv.FormatInt(b, 10) + ub
	}
	return s
}

// Freshness is the verdict on a product's freshness: "OK (5m old, SLA
// 1h)", "BREACHED (2h old, SLA 1h)", or "5m old (no SLA)".
func Freshness(s *ingestionv1.ProductStats) string {
	if s.GetLastEventTime() == nil && s.GetLastIngestTime() == nil {
		return "no data yet"
	}
	age := Age(s.GetFreshnessSeconds()) + " old"
	if s.GetMaxFreshnessSeconds() == 0 {
		return age + " (no SLA)"
	}
	verdict := "OK"
	if !s.GetFreshnessOk() {
		verdict = "BREACHED"
	}
	return fmt.Sprintf("%s (%s, SLA %s)", verdict, age, Age(s.GetMaxFreshnessSeconds()))
}

// StatsDetail shows a product's ingestion counters and freshness.
func StatsDetail(w io.Writer, s *ingestionv1.ProductStats) error {
	rejected := progress.Count(s.GetRejected())
	if r := RuleCounts(s.GetRejectedByRule()); r != "" {
		rejected += " (" + r + ")"
	}
	return WriteFields(w, [][2]string{
		{"Product", s.GetDomain() + "/" + s.GetProduct()},
		{"Accepted", progress.Count(s.GetAccepted())},
		{"Duplicates", progress.Count(s.GetDuplicates())},
		{"Rejected", rejected},
		{"Replayed", progress.Count(s.GetReplayed())},
		{"Bytes", progress.Bytes(s.GetBytes())},
		{"Last event", Time(s.GetLastEventTime())},
		{"Last ingest", Time(s.GetLastIngestTime())},
		{"Freshness", Freshness(s)},
	})
}

// ViolationsSummary is the first two violations as "field: rule", then
// "+N" for the rest.
func ViolationsSummary(vs []*ingestionv1.RecordViolation) string {
	parts := make([]string, 0, 3)
	for i, v := range vs {
		if i == 2 {
			parts = append(parts, fmt.Sprintf("+%d", len(vs)-2))
			break
		}
		parts = append(parts, fieldRule(v))
	}
	return strings.Join(parts, ", ")
}

func fieldRule(v *ingestionv1.RecordViolation) string {
	if v.GetField() == "" {
		return v.GetRule()
	}
	return v.GetField() + ": " + v.GetRule()
}

// QuarantineTable lists quarantined records, one per row.
func QuarantineTable(w io.Writer, rs []*ingestionv1.QuarantinedRecord) error {
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		rows = append(rows, []string{
			strconv.FormatUint(r.GetSequence(), 10), Time(r.GetTime()), r.GetContractVersion(),
			ViolationsSummary(r.GetViolations()), replayed(r),
		})
	}
	return WriteTable(w, []string{"SEQ", "TIME", "CONTRACT", "VIOLATIONS", "REPLAYED"}, rows)
}

func replayed(r *ingestionv1.QuarantinedRecord) string {
	switch {
	case !r.GetReplayed():
		return ""
	case r.GetReplayedSequence() != 0:
		return fmt.Sprintf("yes (data #%d)", r.GetReplayedSequence())
	}
	return "yes"
}

// QuarantinedDetail shows one quarantined record: where it came from, every
// violation, and the record itself, pretty-printed.
func QuarantinedDetail(w io.Writer, r *ingestionv1.QuarantinedRecord) error {
	if err := WriteFields(w, [][2]string{
		{"Sequence", strconv.FormatUint(r.GetSequence(), 10)},
		{"Product", r.GetDomain() + "/" + r.GetProduct()},
		{"Port", r.GetPort()},
		{"Contract", r.GetContractVersion()},
		{"Schema object", r.GetSchemaObject()},
		{"Time", Time(r.GetTime())},
		{"Event time", Time(r.GetEventTime())},
		{"Message id", r.GetMessageId()},
		{"Principal", r.GetPrincipal()},
		{"Replayed", replayed(r)},
	}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := RecordViolationsTable(w, r.GetViolations()); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nRecord:")
	_, err := w.Write(PrettyJSON(r.GetRaw()))
	return err
}

// RecordViolationsTable lists a record's violations.
func RecordViolationsTable(w io.Writer, vs []*ingestionv1.RecordViolation) error {
	rows := make([][]string, 0, len(vs))
	for _, v := range vs {
		rows = append(rows, []string{v.GetField(), v.GetRule(), Truncate(v.GetValue(), 40), v.GetDescription()})
	}
	return WriteTable(w, []string{"FIELD", "RULE", "VALUE", "DESCRIPTION"}, rows)
}

// PrettyJSON indents a JSON document by two spaces, ending with a newline;
// what is not JSON is returned as it is.
func PrettyJSON(raw []byte) []byte {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		out := bytes.TrimRight(raw, "\n")
		return append(out, '\n')
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// ReplayTable lists the outcome of each replayed record.
func ReplayTable(w io.Writer, rs []*ingestionv1.ReplayResult) error {
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		dataSeq := ""
		if r.GetDataSequence() != 0 {
			dataSeq = strconv.FormatUint(r.GetDataSequence(), 10)
		}
		detail := ViolationsSummary(r.GetViolations())
		if e := r.GetError(); e != "" {
			detail = strings.TrimPrefix(detail+"; "+e, "; ")
		}
		rows = append(rows, []string{
			strconv.FormatUint(r.GetSequence(), 10), enums.Name(r.GetOutcome()), dataSeq, detail,
		})
	}
	return WriteTable(w, []string{"SEQ", "OUTCOME", "DATA SEQ", "DETAIL"}, rows)
}

// ReplaySummary is the one-line result of a replay: "stored 3, still
// rejected 1, already replayed 2 against contract 1.2.0"; a dry run says
// what would happen.
func ReplaySummary(r *ingestionv1.ReplayQuarantineResponse, dryRun bool) string {
	verb := "stored"
	if dryRun {
		verb = "dry run: would store"
	}
	s := fmt.Sprintf("%s %d, still rejected %d, already replayed %d", verb, r.GetStored(), r.GetStillRejected(), r.GetAlreadyReplayed())
	if v := r.GetContractVersion(); v != "" {
		s += " against contract " + v
	}
	return s
}
