package lineage

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestRunEventsGolden pins the OpenLineage JSON of a file load's events.
func TestRunEventsGolden(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	file := RunInfo{RunID: "4f6f3a52-6d4c-4b8e-9a38-0c1f5d0a9e11", Domain: "sales", Product: "orders", Port: "v1", Source: "orders.csv", Principal: "sam"}
	stream := file
	stream.Source = ""
	counts := Counts{Stored: 36, Duplicates: 2, Rejected: 4, Errors: 1, Bytes: 9120}
	tests := []struct {
		name string
		ev   RunEvent
	}{
		{"start", Build(Start, file, Counts{}, "", at)},
		{"complete", Build(Complete, file, counts, "", at)},
		{"fail", Build(Fail, stream, counts, "stream closed: connection reset", at)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.MarshalIndent(tc.ev, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from %s:\n%s", tc.name, path, got)
			}
		})
	}
}
