package ingestion_test

import (
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aifactory/aifactory/libs/store/storetest"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
)

// TestBatchSpanLinksStoredRecords: each batch is one span, and every record
// it stored carries that span's traceparent.
func TestBatchSpanLinksStoredRecords(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev) })

	m := newMesh(t, storetest.SQLite(t), storetest.SQLite(t))
	d := m.product("sales", "orders", "sales-orders.odcs.yaml")
	if _, err := m.ingest("sam").Ingest(t.Context(), &ingestionv1.IngestRequest{Target: target(d), Records: records(order(1, ""), order(2, ""))}); err != nil {
		t.Fatal(err)
	}
	var batch sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "ingest batch" {
			for _, a := range s.Attributes() {
				if string(a.Key) == "aifactory.stored" && a.Value.AsInt64() == 2 {
					batch = s
				}
			}
		}
	}
	if batch == nil {
		t.Fatal("no 'ingest batch' span with 2 stored records")
	}
	st, err := m.bus.JetStream().Stream(t.Context(), "DATA_"+upper(d))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := st.GetLastMsgForSubject(t.Context(), "data."+d+".orders.v1")
	if err != nil {
		t.Fatal(err)
	}
	tp2 := msg.Header.Get("traceparent")
	want := "00-" + batch.SpanContext().TraceID().String() + "-" + batch.SpanContext().SpanID().String() + "-01"
	if tp2 != want {
		t.Fatalf("stored record traceparent = %q, want the batch span's %q", tp2, want)
	}
}
