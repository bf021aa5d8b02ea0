package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/names"
	"github.com/aifactory/aifactory/libs/service"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/ingestion/internal/adapters"
	"github.com/aifactory/aifactory/services/ingestion/internal/validate"
)

// Page sizes of ListQuarantine.
const (
	DefaultPageSize = 100
	MaxPageSize     = 500
	// MaxReplay bounds the records one ReplayQuarantine call moves.
	MaxReplay = 10_000
)

func checkProduct(v *service.Violations, domain, product string) {
	if !names.IsLabel(domain) {
		v.Add("domain", "must be a lowercase DNS label")
	}
	if !names.IsLabel(product) {
		v.Add("product", "must be a lowercase DNS label")
	}
}

// ListQuarantine returns a page of a product's quarantined records.
func (s *Service) ListQuarantine(ctx context.Context, req *ingestionv1.ListQuarantineRequest) (*ingestionv1.ListQuarantineResponse, error) {
	var v service.Violations
	checkProduct(&v, req.GetDomain(), req.GetProduct())
	size := int(req.GetPageSize())
	switch {
	case size < 0 || size > MaxPageSize:
		v.Add("page_size", fmt.Sprintf("must be between 0 and %d", MaxPageSize))
	case size == 0:
		size = DefaultPageSize
	}
	var from uint64 = 1
	if tok := req.GetPageToken(); tok != "" {
		n, err := strconv.ParseUint(tok, 10, 64)
		if err != nil || n == 0 {
			v.Add("page_token", "is not a token returned by this API")
		}
		from = n
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	resp := &ingestionv1.ListQuarantineResponse{}
	for len(resp.Records) < size {
		recs, next, err := s.quarantine.List(ctx, req.GetDomain(), req.GetProduct(), from, size)
		if err != nil {
			return nil, service.Unavailable("read the quarantine", err)
		}
		if err := s.markReplayed(ctx, req.GetDomain(), req.GetProduct(), recs); err != nil {
			return nil, service.Unavailable("read the replay ledger", err)
		}
		for _, r := range recs {
			if req.GetIncludeReplayed() || !r.GetReplayed() {
				if len(resp.Records) == size {
					next = r.GetSequence()
					break
				}
				resp.Records = append(resp.Records, r)
			}
		}
		if next == 0 {
			return resp, nil
		}
		from = next
		resp.NextPageToken = strconv.FormatUint(next, 10)
	}
	return resp, nil
}

func (s *Service) markReplayed(ctx context.Context, domain, product string, recs []*ingestionv1.QuarantinedRecord) error {
	if len(recs) == 0 {
		return nil
	}
	done, err := s.ledger.Replayed(ctx, domain, product, recs[0].GetSequence(), recs[len(recs)-1].GetSequence())
	if err != nil {
		return err
	}
	for _, r := range recs {
		if seq, ok := done[r.GetSequence()]; ok {
			r.Replayed, r.ReplayedSequence = true, seq
		}
	}
	return nil
}

// GetQuarantined returns one quarantined record.
func (s *Service) GetQuarantined(ctx context.Context, domain, product string, seq uint64) (*ingestionv1.QuarantinedRecord, error) {
	var v service.Violations
	checkProduct(&v, domain, product)
	if seq == 0 {
		v.Add("sequence", "is required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec, err := s.quarantine.Get(ctx, domain, product, seq)
	if errors.Is(err, adapters.ErrNotQuarantined) {
		return nil, service.NotFound("quarantined record", fmt.Sprintf("%s/%s #%d", domain, product, seq))
	}
	if err != nil {
		return nil, service.Unavailable("read the quarantine", err)
	}
	if err := s.markReplayed(ctx, domain, product, []*ingestionv1.QuarantinedRecord{rec}); err != nil {
		return nil, service.Unavailable("read the replay ledger", err)
	}
	return rec, nil
}

// ReplayQuarantine re-validates quarantined records against the current
// contract of their port (or the product's active port when theirs is gone)
// and moves those that pass to the data subject. Each record moves once: a
// ledger row claims it before the publish, and the publish reuses the
// record's message id, so a retried replay is a duplicate, not a copy.
func (s *Service) ReplayQuarantine(ctx context.Context, p auth.Principal, req *ingestionv1.ReplayQuarantineRequest) (*ingestionv1.ReplayQuarantineResponse, error) {
	var v service.Violations
	checkProduct(&v, req.GetDomain(), req.GetProduct())
	if len(req.GetSequences()) > MaxReplay {
		v.Add("sequences", fmt.Sprintf("has %d entries; the limit is %d per call", len(req.GetSequences()), MaxReplay))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	domain, product := req.GetDomain(), req.GetProduct()
	if err := s.Authorize(p, domain); err != nil {
		return nil, err
	}
	recs, err := s.replayCandidates(ctx, domain, product, req.GetSequences())
	if err != nil {
		return nil, err
	}
	resp := &ingestionv1.ReplayQuarantineResponse{}
	delta := adapters.Delta{LastIngestTime: s.now()}
	for _, rec := range recs {
		r := s.replayOne(ctx, rec, req.GetDryRun(), &delta)
		switch r.GetOutcome() {
		case ingestionv1.Outcome_OUTCOME_STORED:
			resp.Stored++
		case ingestionv1.Outcome_OUTCOME_DUPLICATE:
			resp.AlreadyReplayed++
		case ingestionv1.Outcome_OUTCOME_REJECTED:
			resp.StillRejected++
		}
		resp.Results = append(resp.Results, r)
	}
	if port, err := s.view.Resolve(domain, product, ""); err == nil {
		resp.ContractVersion = port.Contract.GetVersion()
	}
	if !req.GetDryRun() {
		s.stats.Add(domain, product, delta)
	}
	return resp, nil
}

// replayCandidates loads the named records, or every record of the product.
func (s *Service) replayCandidates(ctx context.Context, domain, product string, seqs []uint64) ([]*ingestionv1.QuarantinedRecord, error) {
	var recs []*ingestionv1.QuarantinedRecord
	if len(seqs) > 0 {
		for _, seq := range seqs {
			rec, err := s.GetQuarantined(ctx, domain, product, seq)
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
		}
		return recs, nil
	}
	var from uint64 = 1
	for len(recs) < MaxReplay {
		page, next, err := s.quarantine.List(ctx, domain, product, from, MaxPageSize)
		if err != nil {
			return nil, service.Unavailable("read the quarantine", err)
		}
		if err := s.markReplayed(ctx, domain, product, page); err != nil {
			return nil, service.Unavailable("read the replay ledger", err)
		}
		for _, r := range page {
			if !r.GetReplayed() && len(recs) < MaxReplay {
				recs = append(recs, r)
			}
		}
		if next == 0 {
			break
		}
		from = next
	}
	return recs, nil
}

func (s *Service) replayOne(ctx context.Context, rec *ingestionv1.QuarantinedRecord, dryRun bool, delta *adapters.Delta) *ingestionv1.ReplayResult {
	res := &ingestionv1.ReplayResult{Sequence: rec.GetSequence()}
	if rec.GetReplayed() {
		res.Outcome, res.DataSequence = ingestionv1.Outcome_OUTCOME_DUPLICATE, rec.GetReplayedSequence()
		return res
	}
	t := &ingestionv1.Target{
		Domain: rec.GetDomain(), Product: rec.GetProduct(), Port: rec.GetPort(),
		SchemaObject: rec.GetSchemaObject(), EventTimeField: rec.GetEventTimeField(),
	}
	port, err := s.view.Resolve(t.Domain, t.Product, t.Port)
	if err != nil { // its port is gone: the product's active port
		t.Port = ""
		if port, err = s.view.Resolve(t.Domain, t.Product, ""); err != nil {
			res.Outcome, res.Error = ingestionv1.Outcome_OUTCOME_ERROR, err.Error()
			return res
		}
	}
	schema, err := s.schema(port.Contract, t.GetSchemaObject())
	if err != nil {
		res.Outcome, res.Error = ingestionv1.Outcome_OUTCOME_ERROR, err.Error()
		return res
	}
	vr := schema.Validate(rec.GetRaw(), validate.Options{EventTimeField: t.GetEventTimeField(), MaxFields: s.limits.MaxFields})
	switch {
	case vr.Err != nil:
		res.Outcome, res.Error = ingestionv1.Outcome_OUTCOME_ERROR, vr.Err.Error()
		return res
	case len(vr.Violations) > 0:
		res.Outcome, res.Violations = ingestionv1.Outcome_OUTCOME_REJECTED, vr.Violations
		return res
	case dryRun:
		res.Outcome = ingestionv1.Outcome_OUTCOME_STORED
		return res
	}
	eventTime := vr.EventTime
	if rec.GetEventTime() != nil {
		eventTime = rec.GetEventTime().AsTime()
	}
	if err := s.ensureDataStream(ctx, t.Domain); err != nil {
		res.Outcome, res.Error = ingestionv1.Outcome_OUTCOME_ERROR, err.Error()
		return res
	}
	if err := s.ledger.Claim(ctx, t.Domain, t.Product, rec.GetSequence(), rec.GetMessageId()); err != nil {
		if errors.Is(err, adapters.ErrClaimed) {
			res.Outcome = ingestionv1.Outcome_OUTCOME_DUPLICATE
			return res
		}
		res.Outcome, res.Error = ingestionv1.Outcome_OUTCOME_ERROR, err.Error()
		return res
	}
	ev := dataEvent(t, port, rec.GetMessageId(), eventTime, vr.Record)
	ack, err := s.bus.Publish(ctx, port.GetSubject(), ev)
	if err != nil {
		if rerr := s.ledger.Release(context.WithoutCancel(ctx), t.Domain, t.Product, rec.GetSequence()); rerr != nil {
			s.log.Warn("replay: could not release the claim; the record can be replayed again in a minute", "seq", rec.GetSequence(), "err", rerr)
		}
		res.Outcome, res.Error = ingestionv1.Outcome_OUTCOME_ERROR, err.Error()
		return res
	}
	if err := s.ledger.Confirm(ctx, t.Domain, t.Product, rec.GetSequence(), ack.Sequence); err != nil {
		s.log.Warn("replay: stored but not confirmed in the ledger", "seq", rec.GetSequence(), "err", err)
	}
	res.Outcome, res.DataSequence = ingestionv1.Outcome_OUTCOME_STORED, ack.Sequence
	if ack.Duplicate {
		res.Outcome = ingestionv1.Outcome_OUTCOME_DUPLICATE
		return res
	}
	delta.Accepted++
	delta.Replayed++
	delta.Bytes += int64(len(vr.Record))
	if eventTime.After(delta.LastEventTime) {
		delta.LastEventTime = eventTime
	}
	return res
}

// ProductStats returns a product's counters and freshness.
func (s *Service) ProductStats(ctx context.Context, domain, product string) (*ingestionv1.ProductStats, error) {
	var v service.Violations
	checkProduct(&v, domain, product)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, ok := s.view.Product(domain, product); !ok {
		return nil, service.NotFound("data product", domain+"/"+product)
	}
	d, err := s.stats.Get(ctx, domain, product)
	if err != nil {
		return nil, service.Unavailable("read the counters", err)
	}
	st := &ingestionv1.ProductStats{
		Domain: domain, Product: product,
		Accepted: d.Accepted, Duplicates: d.Duplicates, Rejected: d.Rejected, Replayed: d.Replayed, Bytes: d.Bytes,
		RejectedByRule: d.RejectedByRule,
	}
	if !d.LastEventTime.IsZero() {
		st.LastEventTime = timestamppb.New(d.LastEventTime)
	}
	if !d.LastIngestTime.IsZero() {
		st.LastIngestTime = timestamppb.New(d.LastIngestTime)
	}
	s.fillFreshness(st, d)
	return st, nil
}

// fillFreshness sets the freshness fields from the SLA of the contract
// behind the product's active port.
func (s *Service) fillFreshness(st *ingestionv1.ProductStats, d adapters.Delta) {
	st.FreshnessOk = true
	if port, err := s.view.Resolve(st.GetDomain(), st.GetProduct(), ""); err == nil {
		st.MaxFreshnessSeconds = port.Contract.GetSla().GetMaxFreshnessSeconds()
	}
	last := d.LastEventTime
	if last.IsZero() {
		last = d.LastIngestTime
	}
	if last.IsZero() {
		return
	}
	st.FreshnessSeconds = int64(s.now().Sub(last).Seconds())
	if st.MaxFreshnessSeconds > 0 && st.FreshnessSeconds > st.MaxFreshnessSeconds {
		st.FreshnessOk = false
	}
}

// CheckFreshness compares every product with an SLA and data against its
// SLA and publishes FreshnessChanged on monitoring.freshness.<domain>.<product>
// when a product crosses it (either way).
func (s *Service) CheckFreshness(ctx context.Context) error {
	var errs []error
	for _, p := range s.view.Products() {
		if !service.Serves(s.domains, p.GetDomain()) {
			continue
		}
		st, err := s.ProductStats(ctx, p.GetDomain(), p.GetName())
		if err != nil || st.GetMaxFreshnessSeconds() == 0 || (st.GetLastEventTime() == nil && st.GetLastIngestTime() == nil) {
			continue
		}
		breached := !st.GetFreshnessOk()
		prev, err := s.ledger.Freshness(ctx, p.GetDomain(), p.GetName())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev == breached {
			continue
		}
		ev := &ingestionv1.FreshnessChanged{
			Domain: p.GetDomain(), Product: p.GetName(), Breached: !st.GetFreshnessOk(),
			LastEventTime: st.GetLastEventTime(), MaxFreshnessSeconds: st.GetMaxFreshnessSeconds(),
			FreshnessSeconds: st.GetFreshnessSeconds(), ObservedAt: timestamppb.New(s.now()),
		}
		if ev.LastEventTime == nil {
			ev.LastEventTime = st.GetLastIngestTime()
		}
		if _, err := s.bus.PublishProto(ctx, FreshnessSubject(p.GetDomain(), p.GetName()), ev,
			bus.WithEventSubject(p.GetDomain()+"/"+p.GetName())); err != nil {
			errs = append(errs, err)
			continue
		}
		// Recorded after the publish: a crash in between publishes again,
		// which subscribers see as the same state twice.
		if err := s.ledger.SetFreshness(ctx, p.GetDomain(), p.GetName(), breached); err != nil {
			errs = append(errs, err)
		}
		s.log.Info("freshness changed", "product", p.GetDomain()+"/"+p.GetName(), "breached", ev.Breached,
			"freshness_seconds", ev.FreshnessSeconds, "max_freshness_seconds", ev.MaxFreshnessSeconds)
	}
	return errors.Join(errs...)
}

// FreshnessSubject is where freshness changes of a product are published.
func FreshnessSubject(domain, product string) string {
	return "monitoring.freshness." + domain + "." + product
}
