package featurestore_test

import (
	"fmt"
	"testing"
	"time"

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
