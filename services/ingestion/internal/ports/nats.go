package ports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/aifactory/aifactory/libs/auth"
	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"
	"github.com/aifactory/aifactory/services/ingestion/internal/app"
)

// NATS request/reply: event-native producers send a request to
// ingest.<domain>.<product> whose body is one JSON record or a JSON array
// of records, with headers:
//
//	Authorization               Bearer <token> (required)
//	Idempotency-Key             message id of a single record (optional)
//	Aifactory-Port              output port, e.g. v1 (optional)
//	Aifactory-Event-Time-Field  record field holding the event time (optional)
//
// The reply is the IngestResponse as protojson, or, when the request as a
// whole failed, {"code": "...", "message": "..."} with the header
// Aifactory-Status set to the gRPC code name (OK on success).
const (
	IngestSubjects    = "ingest.*.*"
	IngestQueue       = "aifactory-ingestion"
	HeaderIdempotency = "Idempotency-Key"
	HeaderPortName    = "Aifactory-Port"
	HeaderEventTime   = "Aifactory-Event-Time-Field"
	HeaderStatus      = "Aifactory-Status"
)

// NATSServer answers ingest requests.
type NATSServer struct {
	app   *app.Service
	authn auth.Authenticator
	log   *slog.Logger
}

// NewNATSServer returns the request/reply handler.
func NewNATSServer(a *app.Service, authn auth.Authenticator, log *slog.Logger) *NATSServer {
	return &NATSServer{app: a, authn: authn, log: log}
}

// Subscribe joins the ingestion queue group, so replicas share the
// requests: on ingest.*.* for a replica of every domain, or, for a
// domain's own slice, on ingest.<domain>.* of each domain it serves (in a
// queue group of that domain). Unsubscribe (or drain) the subscriptions to
// stop.
func (s *NATSServer) Subscribe(nc *nats.Conn) ([]*nats.Subscription, error) {
	domains := s.app.Domains()
	if len(domains) == 0 {
		sub, err := nc.QueueSubscribe(IngestSubjects, IngestQueue, s.handle)
		if err != nil {
			return nil, err
		}
		return []*nats.Subscription{sub}, nil
	}
	var subs []*nats.Subscription
	for _, d := range domains {
		sub, err := nc.QueueSubscribe("ingest."+d+".*", IngestQueue+"-"+d, s.handle)
		if err != nil {
			for _, s := range subs {
				_ = s.Unsubscribe()
			}
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, nil
}

func (s *NATSServer) handle(m *nats.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := s.serve(ctx, m)
	reply := nats.NewMsg(m.Reply)
	if err != nil {
		st := status.Convert(err)
		reply.Header.Set(HeaderStatus, st.Code().String())
		reply.Data, _ = json.Marshal(map[string]string{"code": st.Code().String(), "message": st.Message()})
	} else {
		reply.Header.Set(HeaderStatus, codes.OK.String())
		reply.Data, err = protojson.Marshal(resp)
		if err != nil {
			reply.Data = []byte(`{"code":"Internal","message":"encode the response"}`)
		}
	}
	if m.Reply == "" {
		return
	}
	if err := m.RespondMsg(reply); err != nil {
		s.log.Warn("ingest reply not sent", "subject", m.Subject, "err", err)
	}
}

func (s *NATSServer) serve(ctx context.Context, m *nats.Msg) (*ingestionv1.IngestResponse, error) {
	parts := strings.Split(m.Subject, ".")
	if len(parts) != 3 {
		return nil, status.Errorf(codes.InvalidArgument, "subject %q: want ingest.<domain>.<product>", m.Subject)
	}
	token, ok := strings.CutPrefix(m.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return nil, status.Error(codes.Unauthenticated, "missing header Authorization: Bearer <token>")
	}
	p, err := s.authn.Authenticate(ctx, token)
	if err != nil {
		return nil, status.Errorf(codes.Unauthenticated, "invalid token: %v", err)
	}
	records, err := splitRecords(m.Data, s.app.Limits().MaxBatchRecords)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "body: %v", err)
	}
	if key := m.Header.Get(HeaderIdempotency); key != "" {
		if len(records) != 1 {
			return nil, status.Errorf(codes.InvalidArgument, "header %s names one record; the body has %d", HeaderIdempotency, len(records))
		}
		records[0].IdempotencyKey = key
	}
	target := &ingestionv1.Target{
		Domain: parts[1], Product: parts[2],
		Port: m.Header.Get(HeaderPortName), EventTimeField: m.Header.Get(HeaderEventTime),
	}
	out, err := s.app.Ingest(ctx, p, app.Batch{Target: target, Records: records})
	if err != nil {
		return nil, err
	}
	return &ingestionv1.IngestResponse{Records: out.Results, Summary: out.Summary}, nil
}

// splitRecords reads a JSON object or an array of them; each element keeps
// its bytes, so malformed elements are reported per record by validation.
func splitRecords(body []byte, max int) ([]*ingestionv1.Record, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("empty: want a JSON object or an array of objects")
	}
	if trimmed[0] != '[' {
		return []*ingestionv1.Record{{Json: trimmed}}, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(trimmed, &elems); err != nil {
		return nil, fmt.Errorf("not a JSON array: %v", err)
	}
	if len(elems) > max {
		return nil, fmt.Errorf("has %d records; the limit is %d per request", len(elems), max)
	}
	out := make([]*ingestionv1.Record, len(elems))
	for i, e := range elems {
		out[i] = &ingestionv1.Record{Json: e}
	}
	return out, nil
}
