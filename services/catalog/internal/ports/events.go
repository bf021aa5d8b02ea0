package ports

import (
	"context"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/aifactory/aifactory/libs/bus"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/catalog/internal/app"
)

// FreshnessConsumer is the durable consumer through which the catalog
// records the freshness reports of ingestion on its products.
var FreshnessConsumer = bus.ConsumerSpec{
	Stream:        bus.MonitoringStream.Name,
	Durable:       "catalog-freshness",
	Description:   "catalog: record ingestion's freshness reports on the products",
	FilterSubject: "monitoring.freshness.>",
}

// ConsumeFreshness applies freshness reports until ctx is done. durable
// overrides FreshnessConsumer's name when not empty.
func ConsumeFreshness(ctx context.Context, b *bus.Bus, a *app.Service, durable string) error {
	spec := FreshnessConsumer
	if durable != "" {
		spec.Durable = durable
	}
	return b.Consume(ctx, spec, func(ctx context.Context, m jetstream.Msg) error {
		ev := &ingestionv1.FreshnessChanged{}
		if err := proto.Unmarshal(m.Data(), ev); err != nil {
			return bus.Permanent(fmt.Errorf("decode %s: %w", m.Subject(), err))
		}
		if ev.GetDomain() == "" || ev.GetProduct() == "" || strings.ContainsAny(ev.GetDomain()+ev.GetProduct(), ". ") {
			return bus.Permanent(fmt.Errorf("%s: report names no valid product", m.Subject()))
		}
		return a.RecordFreshness(ctx, ev.GetDomain(), ev.GetProduct(), &catalogv1.Freshness{
			Breached:            ev.GetBreached(),
			LastEventTime:       ev.GetLastEventTime(),
			MaxFreshnessSeconds: ev.GetMaxFreshnessSeconds(),
			FreshnessSeconds:    ev.GetFreshnessSeconds(),
			ObservedAt:          ev.GetObservedAt(),
		})
	})
}
