package featurestore_test

import (
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
