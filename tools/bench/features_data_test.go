package main

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestFSRecordJSONAndEncoding(t *testing.T) {
	g := newFSGen(7, 100)
	for i := range int64(50) {
		rec := g.record(i)
		if again := g.record(i); again != rec {
			t.Fatalf("record %d is not deterministic", i)
		}
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(string(rec.appendJSON(nil, 7))))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if m[fsKey] != rec.entity || len(m) != fsFeatures+3 {
			t.Fatalf("record %d: %v", i, m)
		}
		for j := range fsFeatures {
			enc := rec.encoded(j)
			switch j % 3 {
			case 0:
				f, _ := m[fsFeatureName(j)].(json.Number).Float64()
				if f != rec.vals[j].f || enc[0] != 'd' || math.Float64frombits(binary.LittleEndian.Uint64([]byte(enc[1:]))) != f {
					t.Fatalf("record %d feature %d: json %v, encoded %q", i, j, f, enc)
				}
			case 1:
				n, _ := m[fsFeatureName(j)].(json.Number).Int64()
				v, k := binary.Varint([]byte(enc[1:]))
				if n != rec.vals[j].i || enc[0] != 'i' || v != n || k != len(enc)-1 {
					t.Fatalf("record %d feature %d: json %v, encoded %q", i, j, n, enc)
				}
			default:
				if m[fsFeatureName(j)] != rec.vals[j].s || enc != "s"+rec.vals[j].s {
					t.Fatalf("record %d feature %d: json %v, encoded %q", i, j, m[fsFeatureName(j)], enc)
				}
			}
		}
	}
	if !strings.Contains(fsFeaturesYAML(), "- {name: f19, type: int64}") {
		t.Fatal(fsFeaturesYAML())
	}
}
