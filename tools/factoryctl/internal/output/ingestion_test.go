package output

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
)

var ingestTime = timestamppb.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))

func TestStatsDetail(t *testing.T) {
	base := func() *ingestionv1.ProductStats {
		return &ingestionv1.ProductStats{
			Domain: "sales", Product: "orders", Accepted: 1234567, Duplicates: 12, Rejected: 5,
			RejectedByRule: map[string]int64{"pattern": 2, "required": 3, "enum": 2}, Bytes: 3 << 30,
			LastEventTime: ingestTime, LastIngestTime: ingestTime, FreshnessSeconds: 300,
		}
	}
	tests := []struct {
		name   string
		change func(*ingestionv1.ProductStats)
		want   string
	}{
		{
			name:   "within SLA",
			change: func(s *ingestionv1.ProductStats) { s.MaxFreshnessSeconds, s.FreshnessOk = 3600, true },
			want: `Product:      sales/orders
Accepted:     1,234,567
Duplicates:   12
Rejected:     5 (required 3, enum 2, pattern 2)
Replayed:     0
Bytes:        3.0 GiB
Last event:   2026-03-01T12:00:00Z
Last ingest:  2026-03-01T12:00:00Z
Freshness:    OK (5m old, SLA 1h)
`,
		},
		{
			name:   "breached",
			change: func(s *ingestionv1.ProductStats) { s.MaxFreshnessSeconds, s.FreshnessSeconds = 3600, 90061 },
			want:   "Freshness:    BREACHED (1d1h old, SLA 1h)\n",
		},
		{
			name:   "no SLA",
			change: func(*ingestionv1.ProductStats) {},
			want:   "Freshness:    5m old (no SLA)\n",
		},
		{
			name: "no data",
			change: func(s *ingestionv1.ProductStats) {
				*s = ingestionv1.ProductStats{Domain: "sales", Product: "orders", MaxFreshnessSeconds: 60}
			},
			want: "Rejected:    0\nReplayed:    0\nBytes:       0 B\nFreshness:   no data yet\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.change(s)
			var buf bytes.Buffer
			if err := StatsDetail(&buf, s); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), tt.want) {
				t.Errorf("got\n%s\nwant it to contain\n%s", buf.String(), tt.want)
			}
		})
	}
}

func TestViolationsSummary(t *testing.T) {
	v := func(field, rule string) *ingestionv1.RecordViolation {
		return &ingestionv1.RecordViolation{Field: field, Rule: rule}
	}
	tests := []struct {
		vs   []*ingestionv1.RecordViolation
		want string
	}{
		{nil, ""},
		{[]*ingestionv1.RecordViolation{v("amount", "minimum")}, "amount: minimum"},
		{[]*ingestionv1.RecordViolation{v("", "primary_key"), v("a", "type")}, "primary_key, a: type"},
		{[]*ingestionv1.RecordViolation{v("a", "type"), v("b", "required"), v("c", "enum")}, "a: type, b: required, +1"},
		{[]*ingestionv1.RecordViolation{v("a", "type"), v("b", "required"), v("c", "enum"), v("d", "enum")}, "a: type, b: required, +2"},
	}
	for _, tt := range tests {
		if got := ViolationsSummary(tt.vs); got != tt.want {
			t.Errorf("ViolationsSummary() = %q, want %q", got, tt.want)
		}
	}
}

func TestQuarantineOutput(t *testing.T) {
	rec := &ingestionv1.QuarantinedRecord{
		Sequence: 42, Domain: "sales", Product: "orders", Port: "v1", ContractVersion: "1.2.0", Time: ingestTime,
		Raw: []byte(`{"id":"o-1","lines":[{"sku":"x"}]}`), MessageId: "m-1", Principal: "alice",
		Violations: []*ingestionv1.RecordViolation{
			{Field: "lines[0].qty", Rule: "required", Description: "is required"},
			{Field: "id", Rule: "pattern", Value: "o-1", Description: "must match ^O-[0-9]+$"},
		},
	}
	replayed := &ingestionv1.QuarantinedRecord{Sequence: 43, Time: ingestTime, ContractVersion: "1.1.0", Replayed: true, ReplayedSequence: 900,
		Violations: []*ingestionv1.RecordViolation{{Field: "a", Rule: "type"}}}
	var buf bytes.Buffer
	if err := QuarantineTable(&buf, []*ingestionv1.QuarantinedRecord{rec, replayed}); err != nil {
		t.Fatal(err)
	}
	want := `SEQ  TIME                  CONTRACT  VIOLATIONS                           REPLAYED
42   2026-03-01T12:00:00Z  1.2.0     lines[0].qty: required, id: pattern
43   2026-03-01T12:00:00Z  1.1.0     a: type                              yes (data #900)
`
	if buf.String() != want {
		t.Errorf("QuarantineTable:\n%s\nwant\n%s", buf.String(), want)
	}

	buf.Reset()
	if err := QuarantinedDetail(&buf, rec); err != nil {
		t.Fatal(err)
	}
	want = `Sequence:    42
Product:     sales/orders
Port:        v1
Contract:    1.2.0
Time:        2026-03-01T12:00:00Z
Message id:  m-1
Principal:   alice

FIELD         RULE      VALUE  DESCRIPTION
lines[0].qty  required         is required
id            pattern   o-1    must match ^O-[0-9]+$

Record:
{
  "id": "o-1",
  "lines": [
    {
      "sku": "x"
    }
  ]
}
`
	if buf.String() != want {
		t.Errorf("QuarantinedDetail:\n%s\nwant\n%s", buf.String(), want)
	}
	if got := string(PrettyJSON([]byte("not json\n"))); got != "not json\n" {
		t.Errorf("PrettyJSON(not json) = %q", got)
	}
}

func TestReplayOutput(t *testing.T) {
	resp := &ingestionv1.ReplayQuarantineResponse{
		Results: []*ingestionv1.ReplayResult{
			{Sequence: 1, Outcome: ingestionv1.Outcome_OUTCOME_STORED, DataSequence: 77},
			{Sequence: 2, Outcome: ingestionv1.Outcome_OUTCOME_REJECTED, Violations: []*ingestionv1.RecordViolation{{Field: "a", Rule: "type"}}},
			{Sequence: 3, Outcome: ingestionv1.Outcome_OUTCOME_ERROR, Error: "bus unavailable"},
		},
		Stored: 1, StillRejected: 1, ContractVersion: "2.0.0",
	}
	var buf bytes.Buffer
	if err := ReplayTable(&buf, resp.GetResults()); err != nil {
		t.Fatal(err)
	}
	want := `SEQ  OUTCOME   DATA SEQ  DETAIL
1    stored    77
2    rejected            a: type
3    error               bus unavailable
`
	if buf.String() != want {
		t.Errorf("ReplayTable:\n%s\nwant\n%s", buf.String(), want)
	}
	if got, want := ReplaySummary(resp, false), "stored 1, still rejected 1, already replayed 0 against contract 2.0.0"; got != want {
		t.Errorf("ReplaySummary = %q, want %q", got, want)
	}
	if got, want := ReplaySummary(&ingestionv1.ReplayQuarantineResponse{AlreadyReplayed: 4}, true), "dry run: would store 0, still rejected 0, already replayed 4"; got != want {
		t.Errorf("ReplaySummary(dry run) = %q, want %q", got, want)
	}
}

func TestIngestSummaryOutput(t *testing.T) {
	s := &IngestSummary{
		File: "orders.csv", Product: "sales/orders", Port: "v1", RunID: "r-1", ContractVersion: "1.2.0", Subject: "data.sales.orders.v1",
		Read: 10500, Stored: 10000, Duplicates: 400, Rejected: 100, RejectedByRule: map[string]int64{"required": 60, "unreadable": 40},
		Unreadable: 40, ElapsedSeconds: 2.5, RecordsPerSecond: 4200,
		Problems: []LoadProblem{{Line: 3, Outcome: "unreadable", Detail: "bad\nJSON"}, {Line: 9, Outcome: "rejected", Detail: "a: required", Sequence: 5}},
	}
	var buf bytes.Buffer
	if err := IngestSummaryTable(&buf, s); err != nil {
		t.Fatal(err)
	}
	want := `File:          orders.csv
Product:       sales/orders
Port:          v1 (contract 1.2.0)
Subject:       data.sales.orders.v1
Run:           r-1
Records read:  10,500
Stored:        10,000
Duplicates:    400
Rejected:      100 (required 60, unreadable 40)
Errors:        0
Elapsed:       2.5s
Records/s:     4,200
`
	if buf.String() != want {
		t.Errorf("IngestSummaryTable:\n%s\nwant\n%s", buf.String(), want)
	}

	buf.Reset()
	WriteProblems(&buf, s.Problems, 100, " (-v lists them all)")
	want = "line 3: unreadable: bad JSON\nline 9: rejected: a: required [quarantine #5]\n… and 98 more (-v lists them all)\n"
	if buf.String() != want {
		t.Errorf("WriteProblems:\n%q\nwant\n%q", buf.String(), want)
	}

	for _, tt := range []struct {
		f    Format
		want []string
	}{
		{JSON, []string{"{\n  \"file\": \"orders.csv\",\n", "\"rejectedByRule\": {\n    \"required\": 60,\n    \"unreadable\": 40\n  },", "\"quarantineSequence\": 5"}},
		{YAML, []string{"file: orders.csv\nproduct: sales/orders\n", "rejectedByRule:\n  required: 60\n", "problems:\n  - line: 3\n    outcome: unreadable\n"}},
	} {
		buf.Reset()
		if err := PrintValue(&buf, tt.f, s, nil); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s lacks %q:\n%s", tt.f, w, buf.String())
			}
		}
	}
}

func TestAge(t *testing.T) {
	for secs, want := range map[int64]string{-5: "0s", 0: "0s", 59: "59s", 60: "1m", 61: "1m1s", 3600: "1h", 7500: "2h5m", 86400: "1d", 90061: "1d1h"} {
		if got := Age(secs); got != want {
			t.Errorf("Age(%d) = %q, want %q", secs, got, want)
		}
	}
}
