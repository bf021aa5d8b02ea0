package ingestion_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/aifactory/aifactory/libs/bus/bustest"
	"github.com/aifactory/aifactory/libs/store/storetest"
	"github.com/aifactory/aifactory/services/ingestion"
	batchresults "github.com/aifactory/aifactory/services/ingestion/results"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/aifactory/aifactory/libs/bus"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
)

func target(domain string) *ingestionv1.Target {
	return &ingestionv1.Target{Domain: domain, Product: "orders", EventTimeField: "order_ts"}
}

func TestIngestValidatesStoresAndQuarantines(t *testing.T) {
	eachEngine(t, func(t *testing.T, m *mesh) {
		ctx := t.Context()
		d := m.product("sales", "orders", "sales-orders.odcs.yaml")
		sam := m.ingest("sam")
		resp, err := sam.Ingest(ctx, &ingestionv1.IngestRequest{Target: target(d), Records: records(
			order(1, ""),
			order(2, `,"channel2":"x"`), // unknown field
			[]byte(`{"order_id":"not-a-uuid","quantity":0,"currency":"eur"}`), // many violations
			[]byte(`{"order_id": `), // malformed
			order(3, ""),
		)})
		if err != nil {
			t.Fatal(err)
		}
		want := []ingestionv1.Outcome{ingestionv1.Outcome_OUTCOME_STORED, ingestionv1.Outcome_OUTCOME_REJECTED,
			ingestionv1.Outcome_OUTCOME_REJECTED, ingestionv1.Outcome_OUTCOME_ERROR, ingestionv1.Outcome_OUTCOME_STORED}
		for i, r := range batchresults.Expand(resp.GetRecords()) {
			if r.GetOutcome() != want[i] {
				t.Fatalf("record %d: %v (%v %s), want %v", i, r.GetOutcome(), r.GetViolations(), r.GetError(), want[i])
			}
		}
		rules := map[string]bool{}
		for _, v := range batchresults.Expand(resp.GetRecords())[2].GetViolations() {
			rules[v.GetField()+":"+v.GetRule()] = true
		}
		for _, w := range []string{"order_id:format", "quantity:minimum", "currency:pattern", "customer_id:required", "channel:required"} {
			if !rules[w] {
				t.Errorf("violations lack %s: %v", w, batchresults.Expand(resp.GetRecords())[2].GetViolations())
			}
		}
		if s := resp.GetSummary(); s.GetStored() != 2 || s.GetRejected() != 2 || s.GetErrors() != 1 || s.GetContractVersion() != "1.0.0" {
			t.Fatalf("summary = %v", s)
		}
		if n := m.streamCount("DATA_"+upper(d), "data."+d+".orders.v1"); n != 2 {
			t.Fatalf("data subject holds %d records, want 2", n)
		}
		q, err := sam.ListQuarantine(ctx, &ingestionv1.ListQuarantineRequest{Domain: d, Product: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		if len(q.GetRecords()) != 2 || q.GetRecords()[0].GetContractVersion() != "1.0.0" || len(q.GetRecords()[1].GetViolations()) < 5 {
			t.Fatalf("quarantine = %v", q.GetRecords())
		}
		// Raw records stay with their domain.
		_, err = m.ingest("mallory").ListQuarantine(ctx, &ingestionv1.ListQuarantineRequest{Domain: d, Product: "orders"})
		wantCode(t, err, codes.PermissionDenied)
		_, err = m.ingest("mallory").GetQuarantined(ctx, &ingestionv1.GetQuarantinedRequest{Domain: d, Product: "orders", Sequence: q.GetRecords()[0].GetSequence()})
		wantCode(t, err, codes.PermissionDenied)
		// Stored records carry the CloudEvents headers and the contract version.
		s, _ := m.bus.JetStream().Stream(ctx, "DATA_"+upper(d))
		msg, err := s.GetLastMsgForSubject(ctx, "data."+d+".orders.v1")
		if err != nil {
			t.Fatal(err)
		}
		ev, err := bus.ParseEvent(msg.Header, msg.Data)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Headers.Get("aifactory-contract-version") != "1.0.0" || ev.Type != "aifactory.data.v1.Record" ||
			!ev.Time.Equal(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)) || msg.Header.Get(jetstream.MsgIDHeader) != batchresults.Expand(resp.GetRecords())[4].GetMessageId() {
			t.Fatalf("stored event = %+v", ev)
		}
		// Exactly the documented headers (docs/ingestion.md): each is stored
		// with every record.
		var keys []string
		for k := range msg.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"Nats-Msg-Id", "aifactory-contract-version", "ce-id", "ce-source", "ce-specversion", "ce-time", "ce-type"}; !slices.Equal(keys, want) {
			t.Errorf("stored record's headers %q, want %q", keys, want)
		}
	})
}

func upper(d string) string {
	b := []byte(d)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 32
		case c == '-':
			b[i] = '_'
		}
	}
	return string(b)
}

func TestIngestTwiceStoresOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, m *mesh) {
		ctx := t.Context()
		d := m.product("sales", "orders", "sales-orders.odcs.yaml")
		sam := m.ingest("sam")
		var recs [][]byte
		for i := range 50 {
			recs = append(recs, order(i, ""))
		}
		keyed := &ingestionv1.Record{Json: order(99, ""), IdempotencyKey: "client-key-99"}
		for round := range 2 {
			resp, err := sam.Ingest(ctx, &ingestionv1.IngestRequest{Target: target(d), Records: append(records(recs...), keyed)})
			if err != nil {
				t.Fatal(err)
			}
			want := ingestionv1.Outcome_OUTCOME_STORED
			if round == 1 {
				want = ingestionv1.Outcome_OUTCOME_DUPLICATE
			}
			for _, r := range batchresults.Expand(resp.GetRecords()) {
				if r.GetOutcome() != want {
					t.Fatalf("round %d: %v, want %v", round, r, want)
				}
			}
			if got := batchresults.Expand(resp.GetRecords())[50].GetMessageId(); got != "client-key-99" {
				t.Fatalf("idempotency key not used as message id: %s", got)
			}
		}
		if n := m.streamCount("DATA_"+upper(d), "data."+d+".orders.v1"); n != 51 {
			t.Fatalf("stream holds %d, want 51", n)
		}
		// Counters: 51 accepted, 51 duplicates.
		waitStats(t, sam, d, func(s *ingestionv1.ProductStats) bool { return s.GetAccepted() == 51 && s.GetDuplicates() == 51 })
	})
}

func waitStats(t *testing.T, c ingestionv1.IngestionServiceClient, domain string, ok func(*ingestionv1.ProductStats) bool) *ingestionv1.ProductStats {
	t.Helper()
	var last *ingestionv1.ProductStats
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r, err := c.GetProductStats(t.Context(), &ingestionv1.GetProductStatsRequest{Domain: domain, Product: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		if last = r.GetStats(); ok(last) {
			return last
		}
	}
	t.Fatalf("stats never matched: %v", last)
	return nil
}

func TestOnlyDomainMembersWrite(t *testing.T) {
	eachEngine(t, func(t *testing.T, m *mesh) {
		ctx := t.Context()
		d := m.product("sales", "orders", "sales-orders.odcs.yaml")
		_, err := m.ingest("mallory").Ingest(ctx, &ingestionv1.IngestRequest{Target: target(d), Records: records(order(1, ""))})
		wantCode(t, err, codes.PermissionDenied)
		// A service account granted the domain in its token writes.
		tok, err := m.signer.Issue(authPrincipal("bot", d), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		conn := m.dialToken(tok)
		if _, err := ingestionv1.NewIngestionServiceClient(conn).Ingest(ctx, &ingestionv1.IngestRequest{Target: target(d), Records: records(order(2, ""))}); err != nil {
			t.Fatal(err)
		}
		if n := m.streamCount("DATA_"+upper(d), "data."+d+".orders.v1"); n != 1 {
			t.Fatalf("stream holds %d, want 1 (the refused record must not be stored)", n)
		}
		// Unknown product and limits.
		_, err = m.ingest("sam").Ingest(ctx, &ingestionv1.IngestRequest{Target: &ingestionv1.Target{Domain: d, Product: "nope"}, Records: records(order(1, ""))})
		wantCode(t, err, codes.NotFound)
		big := make([]byte, 1<<20+10)
		copy(big, order(5, ""))
		resp, err := m.ingest("sam").Ingest(ctx, &ingestionv1.IngestRequest{Target: target(d), Records: records(big, order(6, ""))})
		if err != nil {
			t.Fatal(err)
		}
		if batchresults.Expand(resp.GetRecords())[0].GetOutcome() != ingestionv1.Outcome_OUTCOME_ERROR || batchresults.Expand(resp.GetRecords())[1].GetOutcome() != ingestionv1.Outcome_OUTCOME_STORED {
			t.Fatalf("an over-limit record must fail alone: %v", batchresults.Expand(resp.GetRecords()))
		}
	})
}

// TestNewContractEnforcedWithinASecond: a record with a field only the next
// contract version has is rejected, then accepted within a second of the
// publish, with no restart.
func TestNewContractEnforcedWithinASecond(t *testing.T) {
	eachEngine(t, func(t *testing.T, m *mesh) {
		ctx := t.Context()
		d := m.product("sales", "orders", "sales-orders.odcs.yaml")
		sam := m.ingest("sam")
		coupon := `,"coupon_code":"WINTER26"`
		resp, err := sam.Ingest(ctx, &ingestionv1.IngestRequest{Target: target(d), Records: records(order(1, coupon))})
		if err != nil {
			t.Fatal(err)
		}
		if batchresults.Expand(resp.GetRecords())[0].GetOutcome() != ingestionv1.Outcome_OUTCOME_REJECTED {
			t.Fatalf("coupon_code accepted before 1.1.0: %v", batchresults.Expand(resp.GetRecords())[0])
		}
		m.publishNoWait(d, "sales-orders-v1.1.odcs.yaml", "")
		published := time.Now()
		for {
			resp, err := sam.Ingest(ctx, &ingestionv1.IngestRequest{Target: target(d), Records: records(order(2, coupon))})
			if err != nil {
				t.Fatal(err)
			}
			if batchresults.Expand(resp.GetRecords())[0].GetOutcome() == ingestionv1.Outcome_OUTCOME_STORED {
				if resp.GetSummary().GetContractVersion() != "1.1.0" {
					t.Fatalf("validated against %s", resp.GetSummary().GetContractVersion())
				}
				t.Logf("enforced %v after the publish", time.Since(published))
				break
			}
			if time.Since(published) > time.Second {
				t.Fatal("1.1.0 not enforced within a second of its publish")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestReplayMovesFixedRecordsOnce: records rejected under 1.0.0 pass after
// the owner publishes 1.1.0; replay moves them once, however often asked.
func TestReplayMovesFixedRecordsOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, m *mesh) {
		ctx := t.Context()
		d := m.product("sales", "orders", "sales-orders.odcs.yaml")
		sam := m.ingest("sam")
		coupon := `,"coupon_code":"WINTER26"`
		if _, err := sam.Ingest(ctx, &ingestionv1.IngestRequest{Target: target(d), Records: records(
			order(1, coupon), order(2, coupon), order(3, `,"quantity2":1`), order(4, ""))}); err != nil {
			t.Fatal(err)
		}
		dry, err := sam.ReplayQuarantine(ctx, &ingestionv1.ReplayQuarantineRequest{Domain: d, Product: "orders", DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if dry.GetStored() != 0 || dry.GetStillRejected() != 3 {
			t.Fatalf("dry run before the fix = %v", dry)
		}
		m.publish(d, "sales-orders-v1.1.odcs.yaml", "")
		var rep *ingestionv1.ReplayQuarantineResponse
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if rep, err = sam.ReplayQuarantine(ctx, &ingestionv1.ReplayQuarantineRequest{Domain: d, Product: "orders"}); err != nil {
				t.Fatal(err)
			}
			if rep.GetStored() > 0 || time.Now().After(deadline) {
				break
			}
		}
		if rep.GetStored() != 2 || rep.GetStillRejected() != 1 || rep.GetContractVersion() != "1.1.0" {
			t.Fatalf("replay = %v", rep)
		}
		again, err := sam.ReplayQuarantine(ctx, &ingestionv1.ReplayQuarantineRequest{Domain: d, Product: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		if again.GetStored() != 0 || again.GetStillRejected() != 1 {
			t.Fatalf("second replay = %v", again)
		}
		var seqs []uint64
		for _, r := range rep.GetResults() {
			seqs = append(seqs, r.GetSequence())
		}
		named, err := sam.ReplayQuarantine(ctx, &ingestionv1.ReplayQuarantineRequest{Domain: d, Product: "orders", Sequences: seqs})
		if err != nil {
			t.Fatal(err)
		}
		if named.GetAlreadyReplayed() != 2 || named.GetStored() != 0 {
			t.Fatalf("replay by sequence = %v", named)
		}
		if n := m.streamCount("DATA_"+upper(d), "data."+d+".orders.v1"); n != 3 {
			t.Fatalf("stream holds %d, want 3", n)
		}
		list, err := sam.ListQuarantine(ctx, &ingestionv1.ListQuarantineRequest{Domain: d, Product: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.GetRecords()) != 1 {
			t.Fatalf("quarantine lists %d records not replayed, want 1", len(list.GetRecords()))
		}
		all, err := sam.ListQuarantine(ctx, &ingestionv1.ListQuarantineRequest{Domain: d, Product: "orders", IncludeReplayed: true, PageSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(all.GetRecords()) != 2 || all.GetNextPageToken() == "" || !all.GetRecords()[0].GetReplayed() {
			t.Fatalf("page 1 of all = %v (next %q)", all.GetRecords(), all.GetNextPageToken())
		}
		waitStats(t, sam, d, func(s *ingestionv1.ProductStats) bool {
			return s.GetAccepted() == 3 && s.GetReplayed() == 2 && s.GetRejected() == 3 && s.GetRejectedByRule()["unknown_field"] == 3
		})
	})
}

// TestStreamSessionAndLineage: a stream session answers every batch in
// order and leaves START and COMPLETE lineage events with row counts.
func TestStreamSessionAndLineage(t *testing.T) {
	eachEngine(t, func(t *testing.T, m *mesh) {
		ctx := t.Context()
		d := m.product("sales", "orders", "sales-orders.odcs.yaml")
		st, err := m.ingest("sam").IngestStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		runID := uuid.NewString() // lineage event ids derive from it: unique per run
		if err := st.Send(&ingestionv1.IngestStreamRequest{Msg: &ingestionv1.IngestStreamRequest_Open{Open: &ingestionv1.StreamOpen{
			Target: target(d), Source: "orders.jsonl", RunId: runID}}}); err != nil {
			t.Fatal(err)
		}
		for b := range 3 {
			var recs [][]byte
			for i := range 100 {
				recs = append(recs, order(b*100+i, ""))
			}
			recs = append(recs, []byte(`{"order_id":1}`))
			if err := st.Send(&ingestionv1.IngestStreamRequest{Msg: &ingestionv1.IngestStreamRequest_Batch{Batch: &ingestionv1.Batch{BatchId: uint64(b + 1), Records: records(recs...)}}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.CloseSend(); err != nil {
			t.Fatal(err)
		}
		var ids []uint64
		for {
			r, err := st.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.GetBatchId())
			if r.GetSummary().GetStored() != 100 || r.GetSummary().GetRejected() != 1 {
				t.Fatalf("batch %d summary = %v", r.GetBatchId(), r.GetSummary())
			}
		}
		if !slices.Equal(ids, []uint64{1, 2, 3}) {
			t.Fatalf("acks = %v", ids)
		}
		events := lineageEvents(t, m, "lineage.ingestion."+d+".orders", 2)
		if events[0]["eventType"] != "START" || events[1]["eventType"] != "COMPLETE" {
			t.Fatalf("lineage = %v", events)
		}
		run := events[1]["run"].(map[string]any)
		out := events[1]["outputs"].([]any)[0].(map[string]any)
		stats := out["outputFacets"].(map[string]any)["outputStatistics"].(map[string]any)
		in := events[1]["inputs"].([]any)[0].(map[string]any)
		if run["runId"] != runID || stats["rowCount"] != float64(300) || in["name"] != "orders.jsonl" || out["name"] != d+".orders.v1" {
			t.Fatalf("COMPLETE = %v", events[1])
		}
	})
}

func lineageEvents(t *testing.T, m *mesh, subject string, want int) []map[string]any {
	t.Helper()
	ctx := t.Context()
	s, err := m.bus.JetStream().Stream(ctx, "LINEAGE")
	if err != nil {
		t.Fatal(err)
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(want, jetstream.FetchMaxWait(3*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for msg := range batch.Messages() {
		var ev map[string]any
		if err := json.Unmarshal(msg.Data(), &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	if len(out) != want {
		t.Fatalf("%d lineage events on %s, want %d", len(out), subject, want)
	}
	return out
}

func TestNATSRequestReply(t *testing.T) {
	eachEngine(t, func(t *testing.T, m *mesh) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		d := m.product("sales", "orders", "sales-orders.odcs.yaml")
		req := nats.NewMsg("ingest." + d + ".orders")
		req.Header.Set("Authorization", "Bearer "+m.token("sam"))
		req.Header.Set("Aifactory-Event-Time-Field", "order_ts")
		req.Data = []byte("[" + string(order(1, "")) + "," + `{"order_id":"x"}` + "]")
		reply, err := m.bus.Conn().RequestMsgWithContext(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if reply.Header.Get("Aifactory-Status") != "OK" {
			t.Fatalf("reply %s: %s", reply.Header.Get("Aifactory-Status"), reply.Data)
		}
		var resp ingestionv1.IngestResponse
		if err := protojson.Unmarshal(reply.Data, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.GetSummary().GetStored() != 1 || resp.GetSummary().GetRejected() != 1 {
			t.Fatalf("reply = %v", &resp)
		}
		bad := nats.NewMsg("ingest." + d + ".orders")
		bad.Data = order(2, "")
		reply, err = m.bus.Conn().RequestMsgWithContext(ctx, bad)
		if err != nil {
			t.Fatal(err)
		}
		if reply.Header.Get("Aifactory-Status") != "Unauthenticated" {
			t.Fatalf("no token: %s %s", reply.Header.Get("Aifactory-Status"), reply.Data)
		}
	})
}

// TestFreshnessBreachReachesTheCatalog: with an SLA of 15 minutes and an
// event time an hour old, ingestion reports a breach and the catalog shows
// it on the product.
func TestFreshnessBreachReachesTheCatalog(t *testing.T) {
	eachEngine(t, func(t *testing.T, m *mesh) {
		ctx := t.Context()
		d := m.product("sales", "orders", "sales-orders.odcs.yaml")
		old := &ingestionv1.Record{Json: order(1, ""), EventTime: timestamppb.New(time.Now().Add(-time.Hour))}
		sam := m.ingest("sam")
		if _, err := sam.Ingest(ctx, &ingestionv1.IngestRequest{Target: target(d), Records: []*ingestionv1.Record{old}}); err != nil {
			t.Fatal(err)
		}
		st := waitStats(t, sam, d, func(s *ingestionv1.ProductStats) bool { return s.GetAccepted() == 1 })
		if st.GetFreshnessOk() || st.GetMaxFreshnessSeconds() != 900 || st.GetFreshnessSeconds() < 3500 {
			t.Fatalf("stats = %v", st)
		}
		m.checkFreshness()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			p, err := m.catalog("sam").GetDataProduct(ctx, &catalogv1.GetDataProductRequest{Domain: d, Name: "orders"})
			if err != nil {
				t.Fatal(err)
			}
			if f := p.GetProduct().GetFreshness(); f.GetBreached() {
				if f.GetMaxFreshnessSeconds() != 900 {
					t.Fatalf("freshness = %v", f)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the catalog never saw the breach: %v", p.GetProduct().GetFreshness())
			}
		}
	})
}

// TestDomainSlice: a replica serving only some domains refuses the others'
// writes.
func TestDomainSlice(t *testing.T) {
	m := newMeshOn(t, bustest.Connect(t, "aifactory/slice-test"), storetest.SQLite(t), storetest.SQLite(t), func(o *ingestion.Options) {
		o.Config.Domains = []string{"logistics-nowhere"}
	})
	d := "sales-" + m.sfx
	if _, err := m.catalog("admin").CreateDomain(t.Context(), &catalogv1.CreateDomainRequest{Domain: &catalogv1.Domain{Name: d, Members: []string{"sam"}}}); err != nil {
		t.Fatal(err)
	}
	_, err := m.ingest("sam").Ingest(t.Context(), &ingestionv1.IngestRequest{Target: target(d), Records: records(order(1, ""))})
	wantCode(t, err, codes.FailedPrecondition)
	// (Its NATS subscriptions are ingest.<domain>.* of its own domains; on a
	// shared server other tests' replicas may answer for every domain, so
	// that is not asserted here.)
}
