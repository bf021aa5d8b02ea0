package featurestore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/aifactory/aifactory/libs/store"
	"github.com/aifactory/aifactory/libs/testenv"
	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// BenchmarkOnline1Entity profiles one GetOnlineFeatures call of one entity
// through the real gRPC server (tools/bench measures it against the floor).
func BenchmarkOnline1Entity(b *testing.B) {
	m := newMesh(b, store.EngineSQLite, meshOptions{redisURL: testenv.RedisURL(b)})
	setupRetailer(b, m)
	m.ingest("sales", "orders", "order_ts", order(1, custA, "10.00", "web", time.Now().Add(-time.Hour)))
	req := &featurestorev1.GetOnlineFeaturesRequest{FeatureService: "churn_v1", Entities: []*featurestorev1.EntityRow{customer(custA)}}
	online(b, m, req, func(r *featurestorev1.GetOnlineFeaturesResponse) bool { return r.GetColumns()[1].GetInt64S()[0] == 1 })
	c := m.client("sam")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetOnlineFeatures(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOnline100Entities profiles a 100-entity GetOnlineFeatures call.
func BenchmarkOnline100Entities(b *testing.B) {
	m := newMesh(b, store.EngineSQLite, meshOptions{redisURL: testenv.RedisURL(b)})
	setupRetailer(b, m)
	var recs []string
	var rows []*featurestorev1.EntityRow
	for i := range 100 {
		id := fmt.Sprintf("c%07d-0000-4000-8000-000000000000", i)
		recs = append(recs, order(i, id, "10.00", "web", time.Now().Add(-time.Hour)))
		rows = append(rows, customer(id))
	}
	m.ingest("sales", "orders", "order_ts", recs...)
	req := &featurestorev1.GetOnlineFeaturesRequest{Features: []string{"customer_orders:last_channel"}, Entities: rows}
	online(b, m, req, func(r *featurestorev1.GetOnlineFeaturesResponse) bool {
		return r.GetColumns()[0].GetStatuses()[99] == featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT
	})
	c := m.client("sam")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetOnlineFeatures(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOnlineVsEmpty alternates a one-entity GetOnlineFeatures with an
// empty call (health Check) on the same connection and reports both p50s:
// their difference is what the feature store adds to a round trip.
func BenchmarkOnlineVsEmpty(b *testing.B) {
	m := newMesh(b, store.EngineSQLite, meshOptions{redisURL: testenv.RedisURL(b)})
	setupRetailer(b, m)
	m.ingest("sales", "orders", "order_ts", order(1, custA, "10.00", "web", time.Now().Add(-time.Hour)))
	req := &featurestorev1.GetOnlineFeaturesRequest{FeatureService: "churn_v1", Entities: []*featurestorev1.EntityRow{customer(custA)}}
	online(b, m, req, func(r *featurestorev1.GetOnlineFeaturesResponse) bool { return r.GetColumns()[1].GetInt64S()[0] == 1 })
	conn := m.conn("sam")
	c, h := featurestorev1.NewFeatureStoreServiceClient(conn), healthpb.NewHealthClient(conn)
	var ours, empty []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := c.GetOnlineFeatures(b.Context(), req); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := h.Check(b.Context(), &healthpb.HealthCheckRequest{}); err != nil {
			b.Fatal(err)
		}
		ours, empty = append(ours, t1.Sub(t0)), append(empty, time.Since(t1))
	}
	p50 := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2]) / float64(time.Microsecond)
	}
	b.ReportMetric(p50(ours), "µs-p50-online")
	b.ReportMetric(p50(empty), "µs-p50-empty")
}
