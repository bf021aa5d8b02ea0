package main

import (
	"slices"
	"strings"
	"testing"

	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
)

func TestIngestionReadCommands(t *testing.T) {
	f := newFakeIngestion()
	addr := startIngestion(t, f)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
		checkReq func(t *testing.T, req any)
	}{
		{
			name: "stats",
			args: []string{"ingest", "stats", "sales/orders"},
			wantOut: []string{
				"Product:      sales/orders\n",
				"Accepted:     12,345\n",
				"Rejected:     3 (required 2, pattern 1)\n",
				"Bytes:        5.0 MiB\n",
				"Last event:   2026-03-01T12:00:00Z\n",
				"Freshness:    BREACHED (2h5m old, SLA 1h)\n",
			},
			checkReq: func(t *testing.T, req any) {
				if r := req.(*ingestionv1.GetProductStatsRequest); r.GetDomain() != "sales" || r.GetProduct() != "orders" {
					t.Errorf("request = %v", r)
				}
			},
		},
		{
			name:    "stats json",
			args:    []string{"ingest", "stats", "sales/orders", "-o", "json"},
			wantOut: []string{`"accepted": "12345"`, `"freshnessSeconds": "7500"`},
		},
		{
			name: "quarantine list follows pages",
			args: []string{"quarantine", "list", "sales/orders", "--all"},
			wantOut: []string{
				"SEQ  TIME                  CONTRACT  VIOLATIONS                                REPLAYED\n",
				"7    2026-03-01T12:00:00Z  1.2.0     amount: minimum\n",
				"9    2026-03-01T12:00:00Z  1.2.0     amount: required, customer: required, +2  yes (data #120)\n",
			},
			checkReq: func(t *testing.T, req any) {
				if r := req.(*ingestionv1.ListQuarantineRequest); !r.GetIncludeReplayed() || r.GetPageToken() != "p2" {
					t.Errorf("request = %v", r)
				}
			},
		},
		{
			name:    "quarantine list --limit",
			args:    []string{"quarantine", "list", "sales/orders", "--limit", "1", "-o", "yaml"},
			wantOut: []string{"records:\n  - sequence: \"7\"\n"},
			checkReq: func(t *testing.T, req any) {
				if r := req.(*ingestionv1.ListQuarantineRequest); r.GetIncludeReplayed() || r.GetPageSize() != 1 {
					t.Errorf("request = %v", r)
				}
			},
		},
		{
			name: "quarantine show",
			args: []string{"quarantine", "show", "sales/orders", "7"},
			wantOut: []string{
				"Sequence:  7\n",
				"FIELD   RULE     VALUE  DESCRIPTION\namount  minimum  -1     must be at least 0\n",
				"Record:\n{\n  \"id\": 7,\n  \"amount\": -1\n}\n",
			},
		},
		{
			name:     "quarantine show unknown",
			args:     []string{"quarantine", "show", "sales/orders", "8"},
			wantCode: 1,
			wantErr:  []string{"Error: NotFound: no quarantined record 8"},
		},
		{
			name: "quarantine replay",
			args: []string{"quarantine", "replay", "sales/orders", "7", "8", "9", "--dry-run"},
			wantOut: []string{
				"SEQ  OUTCOME    DATA SEQ  DETAIL\n",
				"7    stored     130\n",
				"8    rejected             amount: required, customer: required, +2\n",
				"9    duplicate\n",
				"dry run: would store 1, still rejected 1, already replayed 1 against contract 1.3.0\n",
			},
			checkReq: func(t *testing.T, req any) {
				r := req.(*ingestionv1.ReplayQuarantineRequest)
				if !r.GetDryRun() || !slices.Equal(r.GetSequences(), []uint64{7, 8, 9}) {
					t.Errorf("request = %v", r)
				}
			},
		},
		{
			name:    "quarantine replay all",
			args:    []string{"quarantine", "replay", "sales/orders"},
			wantOut: []string{"stored 1, still rejected 1, already replayed 1 against contract 1.3.0\n"},
			checkReq: func(t *testing.T, req any) {
				if r := req.(*ingestionv1.ReplayQuarantineRequest); r.GetDryRun() || len(r.GetSequences()) != 0 {
					t.Errorf("request = %v", r)
				}
			},
		},
		{name: "bad seq", args: []string{"quarantine", "show", "sales/orders", "x"}, wantCode: 2, wantErr: []string{`invalid sequence "x"`}},
		{name: "replay without product", args: []string{"quarantine", "replay"}, wantCode: 2, wantErr: []string{"needs DOMAIN/NAME"}},
		{name: "stats bad product", args: []string{"ingest", "stats", "orders"}, wantCode: 2, wantErr: []string{"want DOMAIN/NAME"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, "", append([]string{"--addr", addr, "--token", "t"}, tt.args...)...)
			if r.code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, s := range tt.wantOut {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if tt.checkReq != nil {
				tt.checkReq(t, f.last())
			}
		})
	}
}
