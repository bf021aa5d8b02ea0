// Package app is the ingestion service's write path: who may write to a
// product, which contract a record is checked against, how a record's
// message id is derived, what is stored, what is quarantined, and what is
// counted.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/catalogview"
	"github.com/aifactory/aifactory/libs/names"
	"github.com/aifactory/aifactory/libs/service"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/ingestion/internal/adapters"
	"github.com/aifactory/aifactory/services/ingestion/internal/validate"
	batchresults "github.com/aifactory/aifactory/services/ingestion/results"
)

// Limits of the write path; see docs/ingestion.md.
type Limits struct {
	// MaxRecordBytes bounds one record (default 1 MiB).
	MaxRecordBytes int
	// MaxBatchRecords bounds the records of one batch (default 10,000).
	MaxBatchRecords int
	// MaxBatchBytes bounds the bytes of one batch (default 16 MiB).
	MaxBatchBytes int
	// MaxFields bounds the keys of one record, nested included (default 1000).
	MaxFields int
}

// DefaultLimits are the limits used when a field is zero.
var DefaultLimits = Limits{MaxRecordBytes: 1 << 20, MaxBatchRecords: 10_000, MaxBatchBytes: 16 << 20, MaxFields: 1000}

// Config configures the application.
type Config struct {
	Limits Limits
	// DedupWindow is the Nats-Msg-Id deduplication window of the DATA_<DOMAIN>
	// streams the service declares (default 15 minutes).
	DedupWindow time.Duration
	// AckTimeout bounds the wait for the JetStream acks of one batch
	// (default 10s); past it the batch is Unavailable.
	AckTimeout time.Duration
	// Domains this replica serves (FACTORY_DOMAINS); nil means every domain.
	// Writes to other domains are refused with FailedPrecondition, so a
	// domain's own slice of the service handles its data alone.
	Domains []string
}

// Service is the ingestion application.
type Service struct {
	view       *catalogview.View
	bus        *bus.Bus
	stats      *adapters.Stats
	ledger     *adapters.Ledger
	quarantine *adapters.Quarantine
	log        *slog.Logger
	limits     Limits
	dedup      time.Duration
	ackTimeout time.Duration
	domains    []string
	tracer     trace.Tracer
	metrics    *metrics
	now        func() time.Time

	schemas sync.Map // "domain/product/version/object" → *validate.Schema
	streams sync.Map // domain → struct{}: DATA_<DOMAIN> declared
}

// New returns the application.
func New(view *catalogview.View, b *bus.Bus, stats *adapters.Stats, ledger *adapters.Ledger, q *adapters.Quarantine,
	reg prometheus.Registerer, log *slog.Logger, cfg Config) (*Service, error) {
	l := cfg.Limits
	def := DefaultLimits
	if l.MaxRecordBytes <= 0 {
		l.MaxRecordBytes = def.MaxRecordBytes
	}
	if l.MaxBatchRecords <= 0 {
		l.MaxBatchRecords = def.MaxBatchRecords
	}
	if l.MaxBatchBytes <= 0 {
		l.MaxBatchBytes = def.MaxBatchBytes
	}
	if l.MaxFields <= 0 {
		l.MaxFields = def.MaxFields
	}
	if cfg.DedupWindow <= 0 {
		cfg.DedupWindow = 15 * time.Minute
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 10 * time.Second
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &Service{
		view: view, bus: b, stats: stats, ledger: ledger, quarantine: q, log: log,
		limits: l, dedup: cfg.DedupWindow, ackTimeout: cfg.AckTimeout, domains: cfg.Domains, tracer: otel.Tracer("aifactory/ingestion"), metrics: m, now: time.Now,
	}, nil
}

// Limits returns the limits in force.
func (s *Service) Limits() Limits { return s.limits }

// Batch is one batch to write.
type Batch struct {
	Target  *ingestionv1.Target
	Records []*ingestionv1.Record
	// RunID links the batch to a stream session's lineage run (optional).
	RunID string
}

// Outcome of a batch.
type Outcome struct {
	Results *ingestionv1.BatchResults
	Summary *ingestionv1.BatchSummary
	// Bytes stored.
	Bytes int64
}

// dataEventType is the ce-type of data records.
const dataEventType = "aifactory.data.v1.Record"

// Headers set on stored data records besides the CloudEvents ones.
const (
	HeaderContractVersion = "aifactory-contract-version"
	HeaderSchemaObject    = "aifactory-schema-object"
)

// Domains returns the domains this replica serves (nil: all).
func (s *Service) Domains() []string { return s.domains }

// Authorize checks that this replica serves domain and that p may write to
// its products.
func (s *Service) Authorize(p auth.Principal, domain string) error {
	if !service.Serves(s.domains, domain) {
		return service.FailedPrecondition(fmt.Sprintf("this ingestion replica serves domains %s; write %s's data through its own slice", strings.Join(s.domains, ", "), domain), nil)
	}
	ok, err := s.view.MayWrite(p, domain)
	switch {
	case err != nil:
		return service.NotFound("domain", domain)
	case !ok:
		return service.PermissionDenied(fmt.Sprintf("%s may not write to domain %s: only its members (or tokens granted the domain) write its products", p.Name, domain))
	}
	return nil
}

// Prepare checks a target and returns its port, contract and compiled
// schema. Errors are gRPC statuses.
func (s *Service) Prepare(ctx context.Context, t *ingestionv1.Target) (*catalogview.Port, *validate.Schema, error) {
	var v service.Violations
	if t == nil {
		v.Add("target", "is required")
		return nil, nil, v.Err()
	}
	if !names.IsLabel(t.GetDomain()) {
		v.Add("target.domain", "must be a lowercase DNS label")
	}
	if !names.IsLabel(t.GetProduct()) {
		v.Add("target.product", "must be a lowercase DNS label")
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	port, err := s.view.Resolve(t.GetDomain(), t.GetProduct(), t.GetPort())
	switch {
	case errors.Is(err, catalogview.ErrNoProduct):
		return nil, nil, service.NotFound("data product", t.GetDomain()+"/"+t.GetProduct())
	case err != nil:
		return nil, nil, service.FailedPrecondition(err.Error(), nil)
	}
	schema, err := s.schema(port.Contract, t.GetSchemaObject())
	if err != nil {
		v.Add("target.schema_object", err.Error())
		return nil, nil, v.Err()
	}
	if f := t.GetEventTimeField(); f != "" {
		if err := schema.CheckEventTimeField(f); err != nil {
			v.Add("target.event_time_field", fmt.Sprintf("contract %s: %v", port.Contract.GetVersion(), err))
			return nil, nil, v.Err()
		}
	}
	if err := s.ensureDataStream(ctx, t.GetDomain()); err != nil {
		return nil, nil, service.Unavailable("declare the data stream", err)
	}
	return port, schema, nil
}

func (s *Service) schema(c *catalogv1.Contract, object string) (*validate.Schema, error) {
	key := c.GetDomain() + "/" + c.GetProduct() + "/" + c.GetVersion() + "/" + object
	if sc, ok := s.schemas.Load(key); ok {
		return sc.(*validate.Schema), nil
	}
	sc, err := validate.Compile(c, object)
	if err != nil {
		return nil, err
	}
	s.schemas.Store(key, sc)
	return sc, nil
}

// ensureDataStream declares DATA_<DOMAIN> once per process.
func (s *Service) ensureDataStream(ctx context.Context, domain string) error {
	if _, ok := s.streams.Load(domain); ok {
		return nil
	}
	spec := bus.DataStream(domain)
	spec.Duplicates = s.dedup
	if err := s.bus.EnsureStreams(ctx, spec); err != nil {
		return err
	}
	s.streams.Store(domain, struct{}{})
	return nil
}

// Ingest validates and writes one batch for principal p. It answers
// Unavailable (retry the whole batch; what was stored comes back as
// DUPLICATE) when the bus did not acknowledge every record.
func (s *Service) Ingest(ctx context.Context, p auth.Principal, b Batch) (*Outcome, error) {
	start := s.now()
	t := b.Target
	ctx, span := s.tracer.Start(ctx, "ingest batch", trace.WithAttributes(
		attribute.String("aifactory.domain", t.GetDomain()),
		attribute.String("aifactory.product", t.GetProduct()),
		attribute.Int("aifactory.records", len(b.Records)),
	))
	defer span.End()
	out, err := s.ingest(ctx, p, b)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return nil, err
	}
	sum := out.Summary
	span.SetAttributes(
		attribute.String("aifactory.contract_version", sum.GetContractVersion()),
		attribute.Int("aifactory.stored", int(sum.GetStored())),
		attribute.Int("aifactory.duplicates", int(sum.GetDuplicates())),
		attribute.Int("aifactory.rejected", int(sum.GetRejected())),
	)
	s.metrics.batchSeconds.WithLabelValues(t.GetDomain(), t.GetProduct()).Observe(s.now().Sub(start).Seconds())
	return out, nil
}

func (s *Service) ingest(ctx context.Context, p auth.Principal, b Batch) (*Outcome, error) {
	t := b.Target
	var v service.Violations
	if len(b.Records) > s.limits.MaxBatchRecords {
		v.Add("records", fmt.Sprintf("has %d records; the limit is %d per batch", len(b.Records), s.limits.MaxBatchRecords))
	}
	size := 0
	for _, r := range b.Records {
		size += len(r.GetJson())
	}
	if size > s.limits.MaxBatchBytes {
		v.Add("records", fmt.Sprintf("are %d bytes; the limit is %d per batch", size, s.limits.MaxBatchBytes))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.Authorize(p, t.GetDomain()); err != nil {
		return nil, err
	}
	port, schema, err := s.Prepare(ctx, t)
	if err != nil {
		return nil, err
	}
	c := port.Contract
	// One value slice for the batch's per-record state: no allocation per
	// record on the hot path.
	results := make([]recordState, len(b.Records))
	var (
		out      []bus.Outgoing
		outIndex []int // out[i] belongs to results[outIndex[i]]
		rejected []bool
	)
	now := s.now()
	delta := adapters.Delta{LastIngestTime: now}
	opts := validate.Options{CoerceText: t.GetCoerceText(), EventTimeField: t.GetEventTimeField(), MaxFields: s.limits.MaxFields}
	headers := newBatchHeaders(t, port)
	for i, rec := range b.Records {
		res := &results[i]
		raw := rec.GetJson()
		if len(raw) > s.limits.MaxRecordBytes {
			res.Outcome = ingestionv1.Outcome_OUTCOME_ERROR
			res.Error = fmt.Sprintf("record is %d bytes; the limit is %d", len(raw), s.limits.MaxRecordBytes)
			continue
		}
		vr := schema.Validate(raw, opts)
		if vr.Err != nil {
			res.Outcome = ingestionv1.Outcome_OUTCOME_ERROR
			res.Error = vr.Err.Error()
			continue
		}
		eventTime := vr.EventTime
		if rec.GetEventTime() != nil {
			eventTime = rec.GetEventTime().AsTime()
		}
		res.MessageId = rec.GetIdempotencyKey()
		if res.MessageId == "" {
			res.MessageId = MessageID(t.GetDomain(), t.GetProduct(), port.GetName(), vr.PrimaryKey, eventTime, vr.Record)
		}
		if len(vr.Violations) > 0 {
			res.Outcome = ingestionv1.Outcome_OUTCOME_REJECTED
			res.Violations = vr.Violations
			q := &ingestionv1.QuarantinedRecord{
				Domain: t.GetDomain(), Product: t.GetProduct(), Port: port.GetName(), ContractVersion: c.GetVersion(),
				Raw: raw, Violations: vr.Violations, Time: timestamppb.New(now), MessageId: res.MessageId,
				Principal: p.Name, SchemaObject: t.GetSchemaObject(), EventTimeField: t.GetEventTimeField(),
			}
			if !eventTime.IsZero() {
				q.EventTime = timestamppb.New(eventTime)
			}
			data, err := proto.Marshal(q)
			if err != nil {
				return nil, status.Errorf(grpccodes.Internal, "encode quarantined record: %v", err)
			}
			out = append(out, bus.Outgoing{Subject: adapters.QuarantineSubject(t.GetDomain(), t.GetProduct()), Event: bus.Event{
				ID: "q:" + res.MessageId, Type: "aifactory.ingestion.v1.QuarantinedRecord",
				Subject: t.GetDomain() + "/" + t.GetProduct(), ContentType: bus.ContentTypeProtobuf, Data: data,
			}})
			outIndex = append(outIndex, i)
			rejected = append(rejected, true)
			continue
		}
		out = append(out, bus.Outgoing{Subject: port.GetSubject(), Event: headers.event(res.MessageId, eventTime, vr.Record)})
		outIndex = append(outIndex, i)
		rejected = append(rejected, false)
		if eventTime.After(delta.LastEventTime) {
			delta.LastEventTime = eventTime
		}
	}

	if len(out) > 0 && !s.bus.Connected() {
		return nil, service.Unavailable("the event bus is not connected; retry the batch", nil)
	}
	// Acks are awaited for a bounded time: a server that went away mid-batch
	// makes the batch Unavailable (retried by the client) rather than hang.
	pctx, cancel := context.WithTimeout(ctx, s.ackTimeout)
	acks, err := s.bus.PublishBatch(pctx, out)
	cancel()
	if err != nil {
		return nil, status.FromContextError(err).Err()
	}
	var failed error
	for j, a := range acks {
		res := &results[outIndex[j]]
		switch {
		case a.Err != nil:
			res.Outcome = ingestionv1.Outcome_OUTCOME_ERROR
			res.Error = "not stored: " + a.Err.Error()
			res.Violations = nil
			failed = a.Err
		case rejected[j]:
			res.Sequence = a.Ack.Sequence
		case a.Ack.Duplicate:
			res.Outcome = ingestionv1.Outcome_OUTCOME_DUPLICATE
			res.Sequence = a.Ack.Sequence
		default:
			res.Outcome = ingestionv1.Outcome_OUTCOME_STORED
			res.Sequence = a.Ack.Sequence
		}
	}
	sum := &ingestionv1.BatchSummary{ContractVersion: c.GetVersion(), Subject: port.GetSubject()}
	var stored int64
	rb := batchresults.NewBuilder(len(results))
	for i := range results {
		res := &results[i]
		switch res.Outcome {
		case ingestionv1.Outcome_OUTCOME_REJECTED, ingestionv1.Outcome_OUTCOME_ERROR:
			rb.Problem(i, res.Outcome, res.Sequence, res.MessageId, res.Violations, res.Error)
		default:
			rb.Set(i, res.Outcome, res.Sequence, res.MessageId)
		}
		switch res.Outcome {
		case ingestionv1.Outcome_OUTCOME_STORED:
			sum.Stored++
			stored += int64(len(b.Records[i].GetJson()))
		case ingestionv1.Outcome_OUTCOME_DUPLICATE:
			sum.Duplicates++
		case ingestionv1.Outcome_OUTCOME_REJECTED:
			sum.Rejected++
			for _, rule := range rulesOf(res.Violations) {
				if delta.RejectedByRule == nil {
					delta.RejectedByRule = map[string]int64{}
				}
				delta.RejectedByRule[rule]++
			}
		default:
			sum.Errors++
		}
	}
	delta.Accepted, delta.Duplicates, delta.Rejected, delta.Bytes = int64(sum.Stored), int64(sum.Duplicates), int64(sum.Rejected), stored
	s.stats.Add(t.GetDomain(), t.GetProduct(), delta)
	s.metrics.observe(t.GetDomain(), t.GetProduct(), sum, stored)
	if failed != nil {
		return nil, service.Unavailable(fmt.Sprintf("%d of %d records not acknowledged by the bus; retry the batch (records already stored come back as duplicates)",
			sum.Errors, len(b.Records)), failed)
	}
	return &Outcome{Results: rb.Build(), Summary: sum, Bytes: stored}, nil
}

// batchHeaders are the headers every record of a batch shares besides the
// CloudEvents ones: one map for the whole batch, which publishing only reads.
type batchHeaders struct {
	extra nats.Header
}

func newBatchHeaders(t *ingestionv1.Target, port *catalogview.Port) *batchHeaders {
	// Every header is stored with every record, so only what a reader needs
	// is here: the domain, product and port are the subject's tokens (so no
	// ce-subject either), and who wrote a load is in its lineage run.
	h := nats.Header{HeaderContractVersion: {port.Contract.GetVersion()}}
	if t.GetSchemaObject() != "" {
		h[HeaderSchemaObject] = []string{t.GetSchemaObject()}
	}
	return &batchHeaders{extra: h}
}

func dataEvent(t *ingestionv1.Target, port *catalogview.Port, id string, eventTime time.Time, record []byte) bus.Event {
	return newBatchHeaders(t, port).event(id, eventTime, record)
}

// event is a data record's event. It carries no content-type either
// (datacontenttype is optional in CloudEvents): a data record is always a
// JSON object, as docs/ingestion.md states.
func (bh *batchHeaders) event(id string, eventTime time.Time, record []byte) bus.Event {
	return bus.Event{
		ID:      id,
		Type:    dataEventType,
		Time:    eventTime,
		Data:    record,
		Headers: bh.extra,
	}
}

// recordState is what the write path knows of one record of a batch.
type recordState struct {
	Outcome    ingestionv1.Outcome
	Sequence   uint64
	MessageId  string
	Violations []*ingestionv1.RecordViolation
	Error      string
}

// MessageID is the stable Nats-Msg-Id of a record without an idempotency
// key: a hash of the product, port, primary key values and event time, or,
// when the contract has no primary key, of the canonical record itself.
func MessageID(domain, product, port string, pk []string, eventTime time.Time, record []byte) string {
	// One buffer on the stack for the usual short keys, one hash call, one
	// allocation (the id itself): this runs for every record.
	var scratch [256]byte
	buf := scratch[:0]
	for _, s := range []string{domain, product, port} {
		buf = append(append(buf, s...), 0)
	}
	if len(pk) > 0 {
		for _, k := range pk {
			buf = append(append(buf, k...), 0x1f)
		}
		buf = append(buf, 0)
		if !eventTime.IsZero() {
			buf = eventTime.UTC().AppendFormat(buf, time.RFC3339Nano)
		}
	} else {
		buf = append(buf, record...)
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:16])
}

func rulesOf(vs []*ingestionv1.RecordViolation) []string {
	var out []string
	for _, v := range vs {
		if !slices.Contains(out, v.GetRule()) {
			out = append(out, v.GetRule())
		}
	}
	return out
}
