package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2025-03-01T12:30:00Z", time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC), true},
		{"2025-03-01T12:30:00.25+01:00", time.Date(2025, 3, 1, 11, 30, 0, 250e6, time.UTC), true},
		{"2025-03-01 12:30:00Z", time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC), true},
		{"2025-03-01", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"2025-03-01T12:30:00", time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC), true},
		{"2025-03-01 12:30:00.5", time.Date(2025, 3, 1, 12, 30, 0, 500e6, time.UTC), true},
		{"01/03/2025", time.Time{}, false},
		{"1740830400", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, err := parseTime(tc.in)
		if (err == nil) != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err == nil && got.Location() != time.UTC {
			t.Errorf("parseTime(%q) is in %v, want UTC", tc.in, got.Location())
		}
	}
}

func TestParseEntityFlag(t *testing.T) {
	types := map[string]featurestorev1.ValueType{"account_id": tInt64, "customer_id": tString}
	for _, tc := range []struct {
		in      string
		want    string // key=kind:value, in order
		wantErr string
	}{
		{in: "customer_id=c-42", want: "customer_id=s:c-42"},
		{in: "account_id=42", want: "account_id=i:42"},
		{in: "account_id:string=0042", want: "account_id=s:0042"},
		{in: "other:int=7,customer_id=c1", want: "other=i:7 customer_id=s:c1"},
		{in: "unknown=7", want: "unknown=s:7"},
		{in: "customer_id=", want: "customer_id=s:"},
		{in: "customer_id=a=b", want: "customer_id=s:a=b"},
		{in: "account_id=4.2", wantErr: `account_id: "4.2" is not an integer`},
		{in: "customer_id", wantErr: "want key=value"},
		{in: "=x", wantErr: "want key=value"},
		{in: "a:float=1", wantErr: `unknown type "float" of a`},
		{in: "a=1,a=2", wantErr: "a appears twice"},
	} {
		row, names, err := parseEntityFlag(tc.in, types)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !isUsageError(err) {
				t.Errorf("parseEntityFlag(%q) error = %v, want usage error %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseEntityFlag(%q): %v", tc.in, err)
			continue
		}
		var parts []string
		for _, n := range names {
			switch v := row.GetJoinKeys()[n]; v.GetKind().(type) {
			case *featurestorev1.Value_Int64Value:
				parts = append(parts, n+"=i:"+keyText(v))
			default:
				parts = append(parts, n+"=s:"+keyText(v))
			}
		}
		if got := strings.Join(parts, " "); got != tc.want {
			t.Errorf("parseEntityFlag(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

var (
	customerKey = &featurestorev1.JoinKey{Name: "customer_id", Type: tString}
	accountKey  = &featurestorev1.JoinKey{Name: "account_id", Type: tInt64}
)

func TestEntityCSVHistorical(t *testing.T) {
	tests := []struct {
		name    string
		csv     string
		keys    []*featurestorev1.JoinKey
		ts      string
		want    []string // per good row: keys and timestamp
		wantErr []string // substrings of the usage error
	}{
		{
			name: "typed keys, timestamps, extra columns",
			csv:  "\ufefflabel,account_id,customer_id,ts\n1,42,c1,2025-03-01\n0, 7 ,c2,2025-03-01T10:00:00+02:00\n",
			keys: []*featurestorev1.JoinKey{customerKey, accountKey}, ts: "ts",
			want: []string{"c1 42 2025-03-01T00:00:00Z", "c2 7 2025-03-01T08:00:00Z"},
		},
		{
			name: "quoted fields with commas and newlines",
			csv:  "customer_id,event_timestamp,note\n\"c,1\",2025-03-01,\"two\nlines\"\nc2,2025-03-02,x\n",
			keys: []*featurestorev1.JoinKey{customerKey}, ts: "event_timestamp",
			want: []string{"c,1 2025-03-01T00:00:00Z", "c2 2025-03-02T00:00:00Z"},
		},
		{
			name: "bad rows name their lines, after a multi-line record",
			csv:  "account_id,event_timestamp,note\n1,2025-03-01,\"a\nb\"\nx,2025-03-01,\n2,,\n3,March,\n,2025-03-01,\n",
			keys: []*featurestorev1.JoinKey{accountKey}, ts: "event_timestamp",
			wantErr: []string{"rows.csv has 4 bad row(s):\n  line 4: join key account_id: \"x\" is not an integer\n  line 5: timestamp event_timestamp is empty\n  line 6: timestamp event_timestamp: \"March\" is not a timestamp",
				"\n  line 7: join key account_id is empty"},
		},
		{
			name: "more bad rows than shown",
			csv:  "account_id,event_timestamp\n" + strings.Repeat("x,2025-03-01\n", 12),
			keys: []*featurestorev1.JoinKey{accountKey}, ts: "event_timestamp",
			wantErr: []string{"has 12 bad row(s)", "line 11:", "… and 2 more"},
		},
		{
			name: "ragged row",
			csv:  "customer_id,event_timestamp\nc1,2025-03-01\nc2\n",
			keys: []*featurestorev1.JoinKey{customerKey}, ts: "event_timestamp",
			wantErr: []string{"rows.csv: line 3: wrong number of fields"},
		},
		{
			name: "bad quoting",
			csv:  "customer_id,event_timestamp\n\"c1,2025-03-01\n",
			keys: []*featurestorev1.JoinKey{customerKey}, ts: "event_timestamp",
			wantErr: []string{"rows.csv: line 2"},
		},
		{name: "empty file", csv: "", keys: []*featurestorev1.JoinKey{customerKey}, ts: "event_timestamp", wantErr: []string{"rows.csv is empty"}},
		{name: "duplicate column", csv: "customer_id,customer_id,event_timestamp\n", keys: []*featurestorev1.JoinKey{customerKey}, ts: "event_timestamp", wantErr: []string{`column "customer_id" appears twice`}},
		{
			name: "missing key columns",
			csv:  "id,event_timestamp\n", keys: []*featurestorev1.JoinKey{customerKey, accountKey}, ts: "event_timestamp",
			wantErr: []string{"has no column for the join key(s) customer_id, account_id of the requested features (its columns: id, event_timestamp)"},
		},
		{name: "missing timestamp column", csv: "customer_id\n", keys: []*featurestorev1.JoinKey{customerKey}, ts: "event_timestamp", wantErr: []string{`no timestamp column "event_timestamp"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readHistorical(tc.csv, tc.keys, tc.ts)
			if len(tc.wantErr) > 0 {
				if err == nil || !isUsageError(err) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q:\n%v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("rows = %q, want %q", got, tc.want)
			}
		})
	}
}

// readHistorical parses csv as an entity file and describes its rows.
func readHistorical(data string, keys []*featurestorev1.JoinKey, ts string) ([]string, error) {
	c, err := openEntityCSV(strings.NewReader(data), "rows.csv", keys, ts)
	if err != nil {
		return nil, err
	}
	errs := &rowErrors{file: "rows.csv"}
	var out []string
	for {
		record, line, err := c.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		row := c.historicalRow(record, line, errs)
		if row == nil {
			continue
		}
		var parts []string
		for _, k := range keys {
			parts = append(parts, keyText(row.GetJoinKeys()[k.GetName()]))
		}
		parts = append(parts, row.GetTimestamp().AsTime().Format(time.RFC3339))
		out = append(out, strings.Join(parts, " "))
	}
	return out, errs.err()
}

func TestReadOnlineEntities(t *testing.T) {
	rows, names, err := readOnlineEntities(strings.NewReader("note,customer_id,account_id\nx,c1,1\ny,c2,2\n"), "e.csv", []*featurestorev1.JoinKey{accountKey, customerKey})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "customer_id,account_id" || len(rows) != 2 {
		t.Fatalf("names %v, %d rows", names, len(rows))
	}
	if rows[1].GetJoinKeys()["account_id"].GetInt64Value() != 2 || rows[1].GetJoinKeys()["customer_id"].GetStringValue() != "c2" || len(rows[1].GetJoinKeys()) != 2 {
		t.Errorf("row 1 = %v", rows[1])
	}

	many := "customer_id\n" + strings.Repeat("c\n", maxOnlineEntities+1)
	if _, _, err := readOnlineEntities(strings.NewReader(many), "e.csv", []*featurestorev1.JoinKey{customerKey}); err == nil || !isUsageError(err) || !strings.Contains(err.Error(), "more than 1000 entity rows") {
		t.Errorf("1001 rows: err = %v", err)
	}
	exact := "customer_id\n" + strings.Repeat("c\n", maxOnlineEntities)
	if rows, _, err := readOnlineEntities(strings.NewReader(exact), "e.csv", []*featurestorev1.JoinKey{customerKey}); err != nil || len(rows) != maxOnlineEntities {
		t.Errorf("1000 rows: %d, %v", len(rows), err)
	}
	if _, _, err := readOnlineEntities(strings.NewReader("customer_id\n"), "e.csv", []*featurestorev1.JoinKey{customerKey}); err == nil || !strings.Contains(err.Error(), "no entity rows") {
		t.Errorf("no rows: err = %v", err)
	}
}

func TestProgressLines(t *testing.T) {
	r := &historicalRun{}
	r.total.Store(20_000)
	r.sent.Store(20_000)
	r.received.Store(5_000)
	r.receiving.Store(true)
	if got, want := r.line(2*time.Second), "[=====>              ]  25.0%  sent 20,000/20,000 rows  received 5,000  2,500/s"; got != want {
		t.Errorf("historical line = %q\nwant               %q", got, want)
	}
	b := &featurestorev1.BackfillResponse{Read: 1500, Materialized: 1400, Skipped: 100, StreamSequence: 150, LastSequence: 300}
	if got, want := backfillLine(b, time.Second), "[==========>         ]  50.0%  read 1,500  materialized 1,400  skipped 100  1,500/s"; got != want {
		t.Errorf("backfill line = %q\nwant             %q", got, want)
	}
	if got, want := backfillLine(&featurestorev1.BackfillResponse{}, 0), "read 0  materialized 0  skipped 0"; got != want {
		t.Errorf("empty backfill line = %q, want %q", got, want)
	}
}
