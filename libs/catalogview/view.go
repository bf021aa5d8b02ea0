// Package catalogview keeps an in-memory copy of the catalog — domains with
// their members, data products with their output ports and read grants, and
// every contract version — built from the CATALOG stream alone and kept
// current by following it. Services that act on the catalog's decisions
// (ingestion enforcing contracts, the feature store honouring grants) share
// it, so a change in the catalog takes effect there as soon as its event
// arrives, without a restart; Subscribe tells them when one did.
package catalogview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// View is the followed catalog. It is safe for concurrent use.
type View struct {
	mu        sync.RWMutex
	domains   map[string]*catalogv1.Domain
	products  map[string]*catalogv1.DataProduct         // "domain/product"
	contracts map[string]map[string]*catalogv1.Contract // "domain/product" → version
	applied   uint64                                    // stream sequence of the last event applied

	ready     chan struct{}
	readyOnce sync.Once
	log       *slog.Logger

	subMu sync.Mutex
	subs  map[chan struct{}]struct{}
}

// New returns an empty view; Follow fills it.
func New(log *slog.Logger) *View {
	if log == nil {
		log = slog.Default()
	}
	return &View{
		domains:   map[string]*catalogv1.Domain{},
		products:  map[string]*catalogv1.DataProduct{},
		contracts: map[string]map[string]*catalogv1.Contract{},
		ready:     make(chan struct{}),
		log:       log,
		subs:      map[chan struct{}]struct{}{},
	}
}

// Follow replays the CATALOG stream from its first message and keeps
// applying new events until ctx is done. It returns once the consumer is
// set up; Ready is closed when the replay caught up with the stream.
func (v *View) Follow(ctx context.Context, b *bus.Bus) error {
	js := b.JetStream()
	stream, err := js.Stream(ctx, bus.CatalogStream.Name)
	if err != nil {
		return fmt.Errorf("catalog view: stream %s: %w", bus.CatalogStream.Name, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("catalog view: %w", err)
	}
	if info.State.Msgs == 0 {
		v.markReady()
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"catalog.>"},
	})
	if err != nil {
		return fmt.Errorf("catalog view: consumer: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		v.apply(m)
		if md, err := m.Metadata(); err == nil && md.NumPending == 0 {
			v.markReady()
		}
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if !errors.Is(err, jetstream.ErrNoHeartbeat) {
			v.log.Debug("catalog view: consumer", "err", err)
		}
	}))
	if err != nil {
		return fmt.Errorf("catalog view: consume: %w", err)
	}
	go func() {
		<-ctx.Done()
		cc.Stop()
	}()
	return nil
}

func (v *View) markReady() { v.readyOnce.Do(func() { close(v.ready) }) }

// WaitReady blocks until the view caught up with the stream or ctx is done.
func (v *View) WaitReady(ctx context.Context) error {
	select {
	case <-v.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("catalog view: not caught up with the CATALOG stream: %w", ctx.Err())
	}
}

// apply folds one catalog event into the view. Events carry full state, so
// applying is replacing.
func (v *View) apply(m jetstream.Msg) {
	var seq uint64
	if md, err := m.Metadata(); err == nil {
		seq = md.Sequence.Stream
	}
	ev, err := bus.EventFromMsg(m)
	if err != nil {
		v.log.Warn("catalog view: skipping a message that is not a CloudEvent", "subject", m.Subject(), "err", err)
		v.skip(seq)
		return
	}
	v.ApplyEvent(seq, ev.Type, ev.Data)
}

// ApplyEvent folds one event given by its CloudEvents type and protobuf
// payload. Unknown types are ignored (newer catalogs may add some), and so
// are undecodable payloads; either still counts as seen for Applied, so
// that WaitApplied does not wait for an event that will never change the
// view. Subscribers are signalled after an event that was applied.
func (v *View) ApplyEvent(seq uint64, typ string, data []byte) {
	var msg proto.Message
	switch typ {
	case "aifactory.catalog.v1.DomainChanged":
		msg = &catalogv1.DomainChanged{}
	case "aifactory.catalog.v1.DataProductChanged":
		msg = &catalogv1.DataProductChanged{}
	case "aifactory.catalog.v1.ContractPublished":
		msg = &catalogv1.ContractPublished{}
	case "aifactory.catalog.v1.ContractStatusChanged":
		msg = &catalogv1.ContractStatusChanged{}
	default:
		v.skip(seq)
		return
	}
	if err := proto.Unmarshal(data, msg); err != nil {
		v.log.Warn("catalog view: undecodable event", "type", typ, "err", err)
		v.skip(seq)
		return
	}
	v.mu.Lock()
	if seq != 0 && seq <= v.applied {
		// A redelivery (an ordered consumer that reset and replays): the
		// view already holds this state or a newer one.
		v.mu.Unlock()
		return
	}
	switch m := msg.(type) {
	case *catalogv1.DomainChanged:
		v.domains[m.GetDomain().GetName()] = m.GetDomain()
	case *catalogv1.DataProductChanged:
		p := m.GetProduct()
		v.products[p.GetDomain()+"/"+p.GetName()] = p
	case *catalogv1.ContractPublished:
		v.putContract(m.GetContract())
	case *catalogv1.ContractStatusChanged:
		v.putContract(m.GetContract())
	}
	if seq > v.applied {
		v.applied = seq
	}
	v.mu.Unlock()
	v.notify()
}

// skip records that the message at seq was seen without changing the view.
func (v *View) skip(seq uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if seq > v.applied {
		v.applied = seq
	}
}

// Subscribe returns a channel that is signalled after each event the view
// applies, and a function that ends the subscription and closes the
// channel. Signals do not queue: a subscriber busy while several events
// arrive is signalled once, and should then re-read what it cares about
// from the view rather than count signals. The view never blocks on a
// slow subscriber.
func (v *View) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	v.subMu.Lock()
	v.subs[ch] = struct{}{}
	v.subMu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			v.subMu.Lock()
			defer v.subMu.Unlock()
			delete(v.subs, ch)
			close(ch)
		})
	}
}

// notify signals every subscriber that has no signal pending.
func (v *View) notify() {
	v.subMu.Lock()
	defer v.subMu.Unlock()
	for ch := range v.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (v *View) putContract(c *catalogv1.Contract) {
	k := c.GetDomain() + "/" + c.GetProduct()
	if v.contracts[k] == nil {
		v.contracts[k] = map[string]*catalogv1.Contract{}
	}
	v.contracts[k][c.GetVersion()] = c
}

// Domain returns a domain.
func (v *View) Domain(name string) (*catalogv1.Domain, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	d, ok := v.domains[name]
	return d, ok
}

// Product returns a data product.
func (v *View) Product(domain, name string) (*catalogv1.DataProduct, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	p, ok := v.products[domain+"/"+name]
	return p, ok
}

// Products returns every product.
func (v *View) Products() []*catalogv1.DataProduct {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]*catalogv1.DataProduct, 0, len(v.products))
	for _, p := range v.products {
		out = append(out, p)
	}
	return out
}

// CanRead reports whether consumerDomain may read the product domain/product:
// it owns the product or the product grants it read access. A product the
// view does not know is readable by no one.
func (v *View) CanRead(consumerDomain, domain, product string) bool {
	p, ok := v.Product(domain, product)
	return ok && Readable(p, consumerDomain)
}

// Readable reports whether consumerDomain may read p: the owning domain
// always does, other domains when granted.
func Readable(p *catalogv1.DataProduct, consumerDomain string) bool {
	if p == nil || consumerDomain == "" {
		return false
	}
	return p.GetDomain() == consumerDomain || slices.Contains(p.GetGrants(), consumerDomain)
}

// Contract returns one contract version of a product.
func (v *View) Contract(domain, product, version string) (*catalogv1.Contract, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	c, ok := v.contracts[domain+"/"+product][version]
	return c, ok
}

// Errors of Resolve.
var (
	ErrNoProduct = errors.New("no such data product")
	ErrNoPort    = errors.New("no usable output port")
)

// Port is an output port with the contract behind it.
type Port struct {
	*catalogv1.OutputPort
	Contract *catalogv1.Contract
}

// Resolve finds the output port to write to — the named one, or the
// active port of the highest major — and its contract. Draft and retired
// ports take no writes.
func (v *View) Resolve(domain, product, port string) (*Port, error) {
	p, ok := v.Product(domain, product)
	if !ok {
		return nil, fmt.Errorf("%w: %s/%s (is it registered in the catalog?)", ErrNoProduct, domain, product)
	}
	var chosen *catalogv1.OutputPort
	for _, op := range p.GetOutputPorts() {
		switch {
		case port != "" && op.GetName() == port:
			chosen = op
		case port == "" && op.GetStatus() == catalogv1.PortStatus_PORT_STATUS_ACTIVE:
			if chosen == nil || op.GetMajor() > chosen.GetMajor() {
				chosen = op
			}
		}
	}
	switch {
	case chosen == nil && port != "":
		return nil, fmt.Errorf("%w: %s/%s has no port %q", ErrNoPort, domain, product, port)
	case chosen == nil:
		return nil, fmt.Errorf("%w: %s/%s has no active output port; publish and activate a contract first", ErrNoPort, domain, product)
	case chosen.GetStatus() == catalogv1.PortStatus_PORT_STATUS_RETIRED:
		return nil, fmt.Errorf("%w: port %s of %s/%s is retired", ErrNoPort, chosen.GetName(), domain, product)
	case chosen.GetStatus() == catalogv1.PortStatus_PORT_STATUS_DRAFT:
		return nil, fmt.Errorf("%w: port %s of %s/%s has only draft contracts; activate one first", ErrNoPort, chosen.GetName(), domain, product)
	}
	c, ok := v.Contract(domain, product, chosen.GetLatestVersion())
	if !ok {
		return nil, fmt.Errorf("%w: contract %s of %s/%s not received yet", ErrNoPort, chosen.GetLatestVersion(), domain, product)
	}
	return &Port{OutputPort: chosen, Contract: c}, nil
}

// Applied returns the highest stream sequence the view has processed,
// whether the event changed the view or was skipped.
func (v *View) Applied() uint64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.applied
}

// WaitApplied blocks until the view applied the event at seq (or later).
func (v *View) WaitApplied(ctx context.Context, seq uint64) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for v.Applied() < seq {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// ErrNoDomain means the view does not know the domain.
var ErrNoDomain = errors.New("no such domain")

// MayWrite reports whether p may change domain's products: a platform
// admin, a token granted the domain, or a member or owner of it. It
// fails with ErrNoDomain when the view does not know the domain (and p
// needs its membership to be checked).
func (v *View) MayWrite(p auth.Principal, domain string) (bool, error) {
	if p.IsAdmin() || p.InDomain(domain) {
		return true, nil
	}
	d, ok := v.Domain(domain)
	if !ok {
		return false, fmt.Errorf("%w: %s", ErrNoDomain, domain)
	}
	return slices.Contains(d.GetMembers(), p.Name) || slices.Contains(d.GetOwners(), p.Name), nil
}
