package app

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
)

// metrics are the ingestion service's Prometheus metrics.
type metrics struct {
	records      *prometheus.CounterVec
	bytes        *prometheus.CounterVec
	batchSeconds *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aifactory_ingestion_records_total",
			Help: "Records ingested, by product and outcome (stored, duplicate, rejected, error).",
		}, []string{"domain", "product", "outcome"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "aifactory_ingestion_stored_bytes_total",
			Help: "Bytes of records stored, by product.",
		}, []string{"domain", "product"}),
		batchSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "aifactory_ingestion_batch_duration_seconds",
			Help:    "Time to validate and store one batch, acks included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"domain", "product"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.records, err = register(reg, m.records); err != nil {
		return nil, err
	}
	if m.bytes, err = register(reg, m.bytes); err != nil {
		return nil, err
	}
	if m.batchSeconds, err = register(reg, m.batchSeconds); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the collector registered before it
// (two services of one process sharing a registry).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, err
	}
	return c, nil
}

func (m *metrics) observe(domain, product string, s *ingestionv1.BatchSummary, bytes int64) {
	for outcome, n := range map[string]int32{"stored": s.GetStored(), "duplicate": s.GetDuplicates(), "rejected": s.GetRejected(), "error": s.GetErrors()} {
		if n > 0 {
			m.records.WithLabelValues(domain, product, outcome).Add(float64(n))
		}
	}
	if bytes > 0 {
		m.bytes.WithLabelValues(domain, product).Add(float64(bytes))
	}
}
