package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/aifactory/aifactory/services/featurestore/columns"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

// fakeFeatures is a test double of the feature store with canned replies,
// to test the CLI's wiring: flags → requests, replies → output, statuses
// → exit codes. The real end-to-end runs elsewhere.
type fakeFeatures struct {
	featurestorev1.UnimplementedFeatureStoreServiceServer

	mu       sync.Mutex
	requests []any
	// Of the last GetHistoricalFeatures stream.
	header *featurestorev1.HistoricalHeader
	chunks []int
	rows   []*featurestorev1.HistoricalRow
}

func (f *fakeFeatures) record(req any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
}

// find returns the last request of type T.
func findRequest[T any](f *fakeFeatures) (T, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if r, ok := f.requests[i].(T); ok {
			return r, true
		}
	}
	var zero T
	return zero, false
}

const (
	tString = featurestorev1.ValueType_VALUE_TYPE_STRING
	tInt64  = featurestorev1.ValueType_VALUE_TYPE_INT64
	tDouble = featurestorev1.ValueType_VALUE_TYPE_DOUBLE
	tBool   = featurestorev1.ValueType_VALUE_TYPE_BOOL
	tTime   = featurestorev1.ValueType_VALUE_TYPE_TIMESTAMP

	present  = featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT
	notFound = featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND
	expired  = featurestorev1.FeatureStatus_FEATURE_STATUS_EXPIRED
)

var (
	fakeEntities = []*featurestorev1.Entity{
		{Name: "customer", Description: "A shopper", JoinKeys: []*featurestorev1.JoinKey{{Name: "customer_id", Type: tString}}, Domain: "sales", Version: 1},
		{Name: "account", JoinKeys: []*featurestorev1.JoinKey{{Name: "account_id", Type: tInt64}}, Domain: "finance", Version: 2},
	}
	fakeViews = []*featurestorev1.FeatureView{
		{
			Name: "customer_orders", Entity: "customer", Domain: "sales", Version: 3,
			Source:         &featurestorev1.Source{Domain: "sales", Product: "orders"},
			TimestampField: "order_ts", Ttl: durationpb.New(90 * 24 * time.Hour), Tags: []string{"churn"},
			Features: []*featurestorev1.Feature{
				{Name: "spend_7d", Type: tDouble, Field: "unit_price", Aggregation: featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_SUM, Window: durationpb.New(7 * 24 * time.Hour)},
				{Name: "orders_7d", Type: tInt64, Aggregation: featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_COUNT, Window: durationpb.New(7 * 24 * time.Hour)},
				{Name: "last_channel", Type: tString, Field: "channel"},
				{Name: "last_order_ts", Type: tTime, Field: "order_ts"},
			},
		},
		{
			Name: "accounts", Entity: "account", Domain: "finance", Version: 1,
			Source:         &featurestorev1.Source{Domain: "finance", Product: "ledger", Port: "v2"},
			TimestampField: "ts",
			Features: []*featurestorev1.Feature{
				{Name: "vip", Type: tBool},
				{Name: "late", Type: tDouble, Expression: "paid_at > due_at", Aggregation: featurestorev1.AggregationFunction_AGGREGATION_FUNCTION_AVG, Window: durationpb.New(30 * 24 * time.Hour)},
			},
		},
	}
	fakeServices = []*featurestorev1.FeatureService{
		{Name: "churn_v1", Description: "Inputs of the churn model", Domain: "sales", Version: 1,
			Features: []string{"customer_orders:spend_7d", "customer_orders:orders_7d", "customer_orders:last_channel"}},
	}
	fakeEventTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

func (f *fakeFeatures) Apply(_ context.Context, req *featurestorev1.ApplyRequest) (*featurestorev1.ApplyResponse, error) {
	f.record(req)
	if strings.Contains(req.GetYaml(), "bad") {
		st, _ := status.New(codes.InvalidArgument, "invalid feature definitions").WithDetails(&errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{
				{Field: "feature_views[0].ttl", Description: `"90x" is not a duration`},
				{Field: "feature_services[1].features[0]", Description: "feature view nope not found"},
			},
		})
		return nil, st.Err()
	}
	return &featurestorev1.ApplyResponse{Changes: []*featurestorev1.Change{
		{Kind: "entity", Name: "customer", Action: "unchanged", Version: 1},
		{Kind: "feature_view", Name: "customer_orders", Action: "updated", Version: 4, Details: []string{"ttl: 30d → 90d", "feature spend_7d added"}},
		{Kind: "feature_service", Name: "churn_v1", Action: "created", Version: 1},
	}}, nil
}

func (f *fakeFeatures) ListEntities(_ context.Context, req *featurestorev1.ListEntitiesRequest) (*featurestorev1.ListEntitiesResponse, error) {
	f.record(req)
	return &featurestorev1.ListEntitiesResponse{Entities: fakeEntities}, nil
}

func (f *fakeFeatures) ListFeatureViews(_ context.Context, req *featurestorev1.ListFeatureViewsRequest) (*featurestorev1.ListFeatureViewsResponse, error) {
	f.record(req)
	return &featurestorev1.ListFeatureViewsResponse{FeatureViews: fakeViews}, nil
}

func (f *fakeFeatures) ListFeatureServices(_ context.Context, req *featurestorev1.ListFeatureServicesRequest) (*featurestorev1.ListFeatureServicesResponse, error) {
	f.record(req)
	return &featurestorev1.ListFeatureServicesResponse{FeatureServices: fakeServices}, nil
}

func (f *fakeFeatures) GetFeatureView(_ context.Context, req *featurestorev1.GetFeatureViewRequest) (*featurestorev1.GetFeatureViewResponse, error) {
	f.record(req)
	for _, v := range fakeViews {
		if v.GetName() == req.GetName() {
			return &featurestorev1.GetFeatureViewResponse{FeatureView: v}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "feature view %q not found", req.GetName())
}

func (f *fakeFeatures) GetFeatureService(_ context.Context, req *featurestorev1.GetFeatureServiceRequest) (*featurestorev1.GetFeatureServiceResponse, error) {
	f.record(req)
	for _, s := range fakeServices {
		if s.GetName() == req.GetName() {
			return &featurestorev1.GetFeatureServiceResponse{FeatureService: s}, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "feature service %q not found", req.GetName())
}

// refsOf returns the features a request names.
func refsOf(service string, features []string) []string {
	if service != "" {
		for _, s := range fakeServices {
			if s.GetName() == service {
				return s.GetFeatures()
			}
		}
	}
	return features
}

// fakeValue is the canned value of feature ref for an entity; the status
// follows the key: "c-missing" is not found, "c-old" expired.
func fakeValue(ref, key string, n int64) (*featurestorev1.Value, featurestorev1.FeatureStatus) {
	switch key {
	case "c-missing":
		return nil, notFound
	case "c-old":
		return nil, expired
	}
	switch ref {
	case "customer_orders:spend_7d":
		return &featurestorev1.Value{Kind: &featurestorev1.Value_DoubleValue{DoubleValue: float64(n) + 0.5}}, present
	case "customer_orders:orders_7d":
		return &featurestorev1.Value{Kind: &featurestorev1.Value_Int64Value{Int64Value: n}}, present
	case "customer_orders:last_channel":
		return &featurestorev1.Value{Kind: &featurestorev1.Value_StringValue{StringValue: "web"}}, present
	case "customer_orders:last_order_ts":
		return &featurestorev1.Value{Kind: &featurestorev1.Value_TimestampValue{TimestampValue: timestamppb.New(fakeEventTime)}}, present
	case "accounts:vip":
		return &featurestorev1.Value{Kind: &featurestorev1.Value_BoolValue{BoolValue: n%2 == 0}}, present
	}
	return nil, present // a present null
}

func keyText(v *featurestorev1.Value) string {
	switch k := v.GetKind().(type) {
	case *featurestorev1.Value_StringValue:
		return k.StringValue
	case *featurestorev1.Value_Int64Value:
		return strconv.FormatInt(k.Int64Value, 10)
	}
	return ""
}

// entityKey is the customer id of a row, else its account id.
func entityKey(keys map[string]*featurestorev1.Value) string {
	if v, ok := keys["customer_id"]; ok {
		return keyText(v)
	}
	return keyText(keys["account_id"])
}

func (f *fakeFeatures) GetOnlineFeatures(_ context.Context, req *featurestorev1.GetOnlineFeaturesRequest) (*featurestorev1.GetOnlineFeaturesResponse, error) {
	f.record(req)
	refs := refsOf(req.GetFeatureService(), req.GetFeatures())
	resp := &featurestorev1.GetOnlineFeaturesResponse{FeatureNames: refs}
	for _, r := range refs {
		typ := featurestorev1.ValueType_VALUE_TYPE_STRING
		if v, _ := fakeValue(r, "", 0); v != nil {
			switch v.GetKind().(type) {
			case *featurestorev1.Value_Int64Value:
				typ = featurestorev1.ValueType_VALUE_TYPE_INT64
			case *featurestorev1.Value_DoubleValue:
				typ = featurestorev1.ValueType_VALUE_TYPE_DOUBLE
			case *featurestorev1.Value_BoolValue:
				typ = featurestorev1.ValueType_VALUE_TYPE_BOOL
			}
		}
		resp.Columns = append(resp.Columns, &featurestorev1.FeatureColumn{Type: typ})
	}
	for i, e := range req.GetEntities() {
		key := entityKey(e.GetJoinKeys())
		var (
			vals []*featurestorev1.Value
			sts  []featurestorev1.FeatureStatus
		)
		for _, r := range refs {
			v, st := fakeValue(r, key, int64(i))
			vals, sts = append(vals, v), append(sts, st)
		}
		columns.Append(resp.Columns, vals, sts, 0)
	}
	return resp, nil
}

// GetHistoricalFeatures reads every row, then answers in chunks of 1000
// joined rows, as the real server does; a row's values follow its index.
func (f *fakeFeatures) GetHistoricalFeatures(stream grpc.BidiStreamingServer[featurestorev1.GetHistoricalFeaturesRequest, featurestorev1.GetHistoricalFeaturesResponse]) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if h == nil {
		return status.Error(codes.InvalidArgument, "header first")
	}
	var rows []*featurestorev1.HistoricalRow
	var chunks []int
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if n := len(req.GetRows().GetRows()); n > maxRowsPerMessage {
			return status.Errorf(codes.InvalidArgument, "%d rows in one message", n)
		}
		chunks = append(chunks, len(req.GetRows().GetRows()))
		rows = append(rows, req.GetRows().GetRows()...)
	}
	f.mu.Lock()
	f.header, f.chunks, f.rows = h, chunks, rows
	f.mu.Unlock()
	refs := refsOf(h.GetFeatureService(), h.GetFeatures())
	if len(refs) == 0 {
		return status.Error(codes.InvalidArgument, "no features")
	}
	resp := &featurestorev1.GetHistoricalFeaturesResponse{FeatureNames: refs}
	for i, r := range rows {
		key := entityKey(r.GetJoinKeys())
		vec := &featurestorev1.FeatureVector{}
		for _, ref := range refs {
			v, st := fakeValue(ref, key, int64(i))
			vec.Values = append(vec.Values, v)
			vec.Statuses = append(vec.Statuses, st)
		}
		resp.Rows = append(resp.Rows, &featurestorev1.JoinedRow{Index: int64(i), Row: r, Features: vec})
		if len(resp.Rows) == 1000 || i == len(rows)-1 {
			if err := stream.Send(resp); err != nil {
				return err
			}
			resp = &featurestorev1.GetHistoricalFeaturesResponse{}
		}
	}
	return nil
}

func (f *fakeFeatures) Backfill(req *featurestorev1.BackfillRequest, stream grpc.ServerStreamingServer[featurestorev1.BackfillResponse]) error {
	f.record(req)
	if req.GetFeatureView() != "customer_orders" {
		return status.Errorf(codes.NotFound, "feature view %q not found", req.GetFeatureView())
	}
	for i := int64(1); i <= 3; i++ {
		if err := stream.Send(&featurestorev1.BackfillResponse{Read: 100 * i, Materialized: 90 * i, Skipped: 10 * i, StreamSequence: uint64(100 * i), LastSequence: 300}); err != nil {
			return err
		}
	}
	return stream.Send(&featurestorev1.BackfillResponse{Read: 300, Materialized: 270, Skipped: 30, StreamSequence: 300, LastSequence: 300, Done: true})
}

// startFeatures serves a fakeFeatures on a loopback port and returns the
// environment that points factoryctl at it.
func startFeatures(t *testing.T) (*fakeFeatures, map[string]string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeFeatures{}
	srv := grpc.NewServer()
	featurestorev1.RegisterFeatureStoreServiceServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return fake, map[string]string{"FACTORY_ADDR": lis.Addr().String(), "FACTORY_TOKEN": "test-token"}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFeaturesCommands(t *testing.T) {
	fake, env := startFeatures(t)
	defs := writeTemp(t, "features.yaml", "domain: sales\nentities: []\n")
	bad := writeTemp(t, "bad.yaml", "domain: sales # bad\n")
	keys := writeTemp(t, "customers.csv", "customer_id,label\nc1,1\nc-missing,0\nc-old,1\n")
	badKeys := writeTemp(t, "accounts.csv", "account_id\n1\nx\n\n3\n")

	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  []string
		wantErr  []string
		check    func(t *testing.T)
	}{
		{
			name: "apply prints the changes",
			args: []string{"features", "apply", "-f", defs, "--domain", "sales"},
			wantOut: []string{
				"KIND             NAME             ACTION     VERSION  DETAILS\n",
				"feature_view     customer_orders  updated    4        ttl: 30d → 90d; feature spend_7d added\n",
			},
			check: func(t *testing.T) {
				req, _ := findRequest[*featurestorev1.ApplyRequest](fake)
				if req.GetDomain() != "sales" || req.GetDryRun() || !strings.Contains(req.GetYaml(), "entities: []") {
					t.Errorf("request = %v", req)
				}
			},
		},
		{
			name:    "apply --dry-run from stdin",
			args:    []string{"features", "apply", "-f", "-", "--dry-run"},
			stdin:   "domain: sales\n",
			wantOut: []string{"Dry run: nothing was applied.\n\nKIND"},
			check: func(t *testing.T) {
				if req, _ := findRequest[*featurestorev1.ApplyRequest](fake); !req.GetDryRun() {
					t.Errorf("dry_run not sent")
				}
			},
		},
		{
			name:     "apply shows violations with field paths",
			args:     []string{"features", "apply", "-f", bad},
			wantCode: 1,
			wantErr:  []string{"Error: InvalidArgument: invalid feature definitions\n  - feature_views[0].ttl: \"90x\" is not a duration\n  - feature_services[1].features[0]: feature view nope not found\n"},
		},
		{name: "apply needs -f", args: []string{"features", "apply"}, wantCode: 2, wantErr: []string{`required flag(s) "file" not set`}},
		{
			name:    "list shows three sections",
			args:    []string{"features", "list"},
			wantOut: []string{"Entities:\nNAME      JOIN KEYS           DOMAIN   VERSION  DESCRIPTION\ncustomer  customer_id:string  sales    1        A shopper\n", "\nFeature views:\n", "customer_orders  customer  sales/orders         4         90d            sales    3        churn\n", "accounts         account   finance/ledger (v2)", "\nFeature services:\nNAME      FEATURES"},
		},
		{
			name:    "list all as json",
			args:    []string{"features", "list", "-o", "json"},
			wantOut: []string{`"entities": [`, `"featureViews": [`, `"featureServices": [`},
		},
		{name: "list views", args: []string{"features", "list", "views"}, wantOut: []string{"NAME             ENTITY    SOURCE"}},
		{name: "list services yaml", args: []string{"features", "list", "services", "-o", "yaml"}, wantOut: []string{"featureServices:\n  - name: churn_v1\n"}},
		{name: "list rejects a kind", args: []string{"features", "list", "models"}, wantCode: 2, wantErr: []string{`invalid argument "models"`}},
		{
			name: "get view",
			args: []string{"features", "get", "view", "customer_orders"},
			wantOut: []string{
				"Feature view:     customer_orders\n", "Source:           sales/orders\n", "Timestamp field:  order_ts\n", "TTL:              90d\n",
				"NAME           TYPE       SOURCE      AGGREGATION  WINDOW\nspend_7d       double     unit_price  sum          7d\norders_7d      int64                  count        7d\nlast_channel   string     channel\n",
			},
		},
		{
			name:    "get view with expression and no TTL",
			args:    []string{"features", "get", "view", "accounts"},
			wantOut: []string{"TTL:              never expires\n", "late  double  paid_at > due_at  avg          30d\n"},
		},
		{name: "get view not found", args: []string{"features", "get", "view", "nope"}, wantCode: 1, wantErr: []string{"Error: NotFound: feature view \"nope\" not found"}},
		{name: "get service", args: []string{"features", "get", "service", "churn_v1"}, wantOut: []string{"Feature service:  churn_v1\n", "VIEW             FEATURE\ncustomer_orders  spend_7d\n"}},
		{
			name: "online with --entity shows statuses",
			args: []string{"features", "online", "--service", "churn_v1", "--entity", "customer_id=c1", "--entity", "customer_id=c-missing", "--entity", "customer_id=c-old"},
			wantOut: []string{
				"customer_id  customer_orders:spend_7d  customer_orders:orders_7d  customer_orders:last_channel\n" +
					"c1           0.5                       0                          web\n" +
					"c-missing    ∅ not found               ∅ not found                ∅ not found\n" +
					"c-old        ∅ expired                 ∅ expired                  ∅ expired\n",
			},
			check: func(t *testing.T) {
				req, _ := findRequest[*featurestorev1.GetOnlineFeaturesRequest](fake)
				if req.GetFeatureService() != "churn_v1" || len(req.GetEntities()) != 3 {
					t.Errorf("request = %v", req)
				}
				if v := req.GetEntities()[0].GetJoinKeys()["customer_id"]; v.GetStringValue() != "c1" {
					t.Errorf("customer_id = %v, want the string c1", v)
				}
			},
		},
		{
			name:    "online infers int keys from the entity",
			args:    []string{"features", "online", "--features", "accounts:vip,accounts:late", "--entity", "account_id=42"},
			wantOut: []string{"account_id  accounts:vip  accounts:late\n42          true          ∅\n"},
			check: func(t *testing.T) {
				req, _ := findRequest[*featurestorev1.GetOnlineFeaturesRequest](fake)
				if v := req.GetEntities()[0].GetJoinKeys()["account_id"]; v.GetInt64Value() != 42 {
					t.Errorf("account_id = %v, want the integer 42", v)
				}
				if len(req.GetFeatures()) != 2 || req.GetFeatureService() != "" {
					t.Errorf("features = %v", req.GetFeatures())
				}
			},
		},
		{
			name:    "online key:string overrides the entity's type",
			args:    []string{"features", "online", "--features", "accounts:vip", "--entity", "account_id:string=0042", "-o", "json"},
			wantOut: []string{`"featureNames": [`, `"bools": [`},
			check: func(t *testing.T) {
				req, _ := findRequest[*featurestorev1.GetOnlineFeaturesRequest](fake)
				if v := req.GetEntities()[0].GetJoinKeys()["account_id"]; v.GetStringValue() != "0042" {
					t.Errorf("account_id = %v, want the string 0042", v)
				}
			},
		},
		{name: "online bad int key", args: []string{"features", "online", "--features", "accounts:vip", "--entity", "account_id=x"}, wantCode: 2, wantErr: []string{`invalid --entity "account_id=x": account_id: "x" is not an integer`}},
		{
			name:    "online from a CSV file",
			args:    []string{"features", "online", "--features", "customer_orders:last_channel", "--entities", keys},
			wantOut: []string{"customer_id  customer_orders:last_channel\nc1           web\nc-missing    ∅ not found\nc-old        ∅ expired\n"},
		},
		{name: "online CSV with bad rows", args: []string{"features", "online", "--features", "accounts:vip", "--entities", badKeys}, wantCode: 2, wantErr: []string{"has 1 bad row(s):\n  line 3: join key account_id: \"x\" is not an integer\n"}},
		{name: "online needs entities", args: []string{"features", "online", "--service", "churn_v1"}, wantCode: 2, wantErr: []string{"name the entities"}},
		{name: "online needs features", args: []string{"features", "online", "--entity", "customer_id=c1"}, wantCode: 2, wantErr: []string{"name the features"}},
		{name: "online service or features", args: []string{"features", "online", "--service", "churn_v1", "--features", "a:b", "--entity", "customer_id=c1"}, wantCode: 2, wantErr: []string{"if any flags in the group [service features] are set none of the others can be"}},
		{name: "online bad reference", args: []string{"features", "online", "--features", "spend_7d", "--entity", "customer_id=c1"}, wantCode: 2, wantErr: []string{`invalid feature reference "spend_7d"`}},
		{name: "online unknown view", args: []string{"features", "online", "--features", "nope:x", "--entity", "customer_id=c1"}, wantCode: 1, wantErr: []string{`Error: NotFound: feature view "nope" (of nope:x) not found`}},
		{
			name:    "backfill prints the totals",
			args:    []string{"features", "backfill", "customer_orders", "--start", "2025-01-01", "--end", "2025-02-01T00:00:00Z"},
			wantOut: []string{"Feature view:  customer_orders\n", "Range:         2025-01-01T00:00:00Z → 2025-02-01T00:00:00Z\n", "Records read:  300\n", "Materialized:  270\n", "Skipped:       30\n"},
			check: func(t *testing.T) {
				req, _ := findRequest[*featurestorev1.BackfillRequest](fake)
				if !req.GetStart().AsTime().Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) || !req.GetEnd().AsTime().Equal(time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("range = %v .. %v", req.GetStart(), req.GetEnd())
				}
			},
		},
		{name: "backfill json", args: []string{"features", "backfill", "customer_orders", "-o", "json"}, wantOut: []string{`"materialized": 270`, `"done": true`}},
		{name: "backfill bad --start", args: []string{"features", "backfill", "customer_orders", "--start", "yesterday"}, wantCode: 2, wantErr: []string{`--start: "yesterday" is not a timestamp`}},
		{name: "backfill start after end", args: []string{"features", "backfill", "customer_orders", "--start", "2025-02-01", "--end", "2025-01-01"}, wantCode: 2, wantErr: []string{"--start must be before --end"}},
		{name: "backfill unknown view", args: []string{"features", "backfill", "nope"}, wantCode: 1, wantErr: []string{"Error: NotFound: feature view \"nope\" not found"}},
		{name: "features alone shows help", args: []string{"features"}, wantOut: []string{"Available Commands:"}},
		{name: "features unknown subcommand", args: []string{"features", "serve"}, wantCode: 2, wantErr: []string{`unknown command "serve"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runCLI(t, env, tc.stdin, tc.args...)
			if res.code != tc.wantCode {
				t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tc.wantCode, res.stdout, res.stderr)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, res.stdout)
				}
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			if tc.check != nil {
				tc.check(t)
			}
		})
	}
}

// writeEntityRows writes n entity rows: customer_id, event_timestamp (a
// date on even rows, RFC 3339 on odd ones) and a label, with every 7th
// customer unknown to the store.
func writeEntityRows(t *testing.T, n int) (path string, lines []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("label,customer_id,event_timestamp\n")
	for i := range n {
		id := "c" + strconv.Itoa(i)
		if i%7 == 3 {
			id = "c-missing"
		}
		ts := "2025-03-02"
		if i%2 == 1 {
			ts = fmt.Sprintf("2025-03-02T10:%02d:00Z", i%60)
		}
		line := fmt.Sprintf("%d,%s,%s", i%2, id, ts)
		if i == 5 {
			line = `"a, quoted ""label""",c5,2025-03-02 10:05:00`
		}
		lines = append(lines, line)
		b.WriteString(line + "\n")
	}
	return writeTemp(t, "rows.csv", b.String()), lines
}

func TestFeaturesHistoricalCSV(t *testing.T) {
	fake, env := startFeatures(t)
	const n = 25_001
	rows, lines := writeEntityRows(t, n)
	out := filepath.Join(t.TempDir(), "train.csv")

	res := runCLI(t, env, "", "features", "historical", "--entities", rows, "--service", "churn_v1", "--out", out)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, w := range []string{"Training set:     " + out + " (csv)\n", "Rows:             25,001\n", "Columns:          6\n",
		"COLUMN                         PRESENT  NOT FOUND  EXPIRED\ncustomer_orders__spend_7d      21,429   3,572      0\n"} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("summary lacks %q:\n%s", w, res.stdout)
		}
	}

	fake.mu.Lock()
	header, chunks, sent := fake.header, fake.chunks, fake.rows
	fake.mu.Unlock()
	if header.GetFeatureService() != "churn_v1" || len(header.GetFeatures()) != 0 {
		t.Errorf("header = %v", header)
	}
	if fmt.Sprint(chunks) != "[10000 10000 5001]" {
		t.Errorf("chunks = %v, want [10000 10000 5001]", chunks)
	}
	if len(sent) != n {
		t.Fatalf("sent %d rows, want %d", len(sent), n)
	}
	if got := sent[1].GetTimestamp().AsTime(); !got.Equal(time.Date(2025, 3, 2, 10, 1, 0, 0, time.UTC)) {
		t.Errorf("row 1 timestamp = %v", got)
	}
	if got := sent[0].GetTimestamp().AsTime(); !got.Equal(time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("row 0 timestamp = %v", got)
	}
	if got := sent[5].GetTimestamp().AsTime(); !got.Equal(time.Date(2025, 3, 2, 10, 5, 0, 0, time.UTC)) {
		t.Errorf("row 5 timestamp (no zone) = %v", got)
	}
	if v := sent[2].GetJoinKeys()["customer_id"]; v.GetStringValue() != "c2" || len(sent[2].GetJoinKeys()) != 1 {
		t.Errorf("row 2 keys = %v", sent[2].GetJoinKeys())
	}

	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n+1 {
		t.Fatalf("training set has %d lines, want %d", len(got), n+1)
	}
	wantHeader := "label,customer_id,event_timestamp,customer_orders__spend_7d,customer_orders__orders_7d,customer_orders__last_channel"
	if h := strings.Join(got[0], ","); h != wantHeader {
		t.Errorf("header = %s, want %s", h, wantHeader)
	}
	// Exact text of the first rows: input columns unchanged (quoting
	// included), then the features; nulls empty.
	wantText := wantHeader + "\n" +
		lines[0] + ",0.5,0,web\n" +
		lines[1] + ",1.5,1,web\n" +
		lines[2] + ",2.5,2,web\n" +
		lines[3] + ",,,\n" +
		lines[4] + ",4.5,4,web\n" +
		lines[5] + ",5.5,5,web\n"
	if !strings.HasPrefix(string(b), wantText) {
		t.Errorf("training set starts with:\n%s\nwant:\n%s", string(b)[:len(wantText)], wantText)
	}
	// Order preserved throughout: row i has spend i+0.5 unless unknown.
	for i, rec := range got[1:] {
		want := strconv.Itoa(i) + ".5"
		if i%7 == 3 {
			want = ""
		}
		if rec[3] != want || (i != 5 && rec[1] != strings.Split(lines[i], ",")[1]) {
			t.Fatalf("row %d = %v, want spend %q", i, rec, want)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("output dir holds %d files, want only the training set", len(entries))
	}
}

func TestFeaturesHistoricalParquet(t *testing.T) {
	fake, env := startFeatures(t)
	rows := writeTemp(t, "accounts.csv", "account_id,event_timestamp,y\n7,2025-03-01,1\n8,2025-03-01T08:00:00.5Z,0\n")
	out := filepath.Join(t.TempDir(), "train.parquet")
	res := runCLI(t, env, "", "features", "historical", "--entities", rows,
		"--features", "accounts:vip,accounts:late,customer_orders:last_order_ts", "--out", out, "-o", "json")
	// customer_orders needs customer_id, which the file lacks.
	if res.code != 2 || !strings.Contains(res.stderr, "has no column for the join key(s) customer_id") {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}

	rows = writeTemp(t, "both.csv", "account_id,customer_id,event_timestamp,y\n7,c1,2025-03-01,1\n8,c-missing,2025-03-01T08:00:00.5Z,0\n")
	res = runCLI(t, env, "", "features", "historical", "--entities", rows,
		"--features", "accounts:vip,accounts:late,customer_orders:last_order_ts", "--out", out, "-o", "json")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, `"format": "parquet"`) || !strings.Contains(res.stdout, `"column": "accounts__vip"`) {
		t.Errorf("summary:\n%s", res.stdout)
	}
	fake.mu.Lock()
	sent := fake.rows
	fake.mu.Unlock()
	if v := sent[0].GetJoinKeys()["account_id"]; v.GetInt64Value() != 7 {
		t.Errorf("account_id = %v, want the integer 7", v)
	}

	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fl := range f.Schema().Fields() {
		names = append(names, fl.Name()+":"+fl.Type().Kind().String())
	}
	wantNames := "account_id:BYTE_ARRAY customer_id:BYTE_ARRAY event_timestamp:BYTE_ARRAY y:BYTE_ARRAY accounts__vip:BOOLEAN accounts__late:DOUBLE customer_orders__last_order_ts:INT64"
	if got := strings.Join(names, " "); got != wantNames {
		t.Errorf("columns = %s\nwant      %s", got, wantNames)
	}
	r := parquet.NewReader(f)
	defer r.Close()
	got := make([]parquet.Row, 2)
	if n, err := r.ReadRows(got); n != 2 {
		t.Fatalf("read %d rows: %v", n, err)
	}
	row0 := got[0]
	if string(row0[2].ByteArray()) != "2025-03-01" || !row0[4].Boolean() || !row0[5].IsNull() || row0[6].Int64() != fakeEventTime.UnixMicro() {
		t.Errorf("row 0 = %v", row0)
	}
	row1 := got[1]
	if string(row1[2].ByteArray()) != "2025-03-01T08:00:00.5Z" || !row1[4].IsNull() || !row1[6].IsNull() {
		t.Errorf("row 1 = %v", row1)
	}
}

func TestFeaturesHistoricalUsageErrors(t *testing.T) {
	fake, env := startFeatures(t)
	out := filepath.Join(t.TempDir(), "train.csv")
	tests := []struct {
		name    string
		csv     string
		args    []string
		wantErr []string
	}{
		{
			name: "bad rows are listed with their lines",
			csv:  "customer_id,event_timestamp\nc1,2025-03-01\n,2025-03-01\nc3,yesterday\nc4,\n",
			wantErr: []string{"has 3 bad row(s):\n", "  line 3: join key customer_id is empty\n",
				"  line 4: timestamp event_timestamp: \"yesterday\" is not a timestamp", "  line 5: timestamp event_timestamp is empty\n"},
		},
		{name: "wrong number of fields", csv: "customer_id,event_timestamp\nc1,2025-03-01,extra\n", wantErr: []string{"line 2: wrong number of fields"}},
		{name: "no timestamp column", csv: "customer_id,ts\nc1,2025-03-01\n", wantErr: []string{`has no timestamp column "event_timestamp" (its columns: customer_id, ts): name it with --timestamp-column`}},
		{name: "no join key column", csv: "id,event_timestamp\nc1,2025-03-01\n", wantErr: []string{"has no column for the join key(s) customer_id"}},
		{name: "no rows", csv: "customer_id,event_timestamp\n", wantErr: []string{"has no entity rows"}},
		{name: "column named like a feature", csv: "customer_id,event_timestamp,customer_orders__spend_7d\nc1,2025-03-01,1\n", wantErr: []string{`column "customer_orders__spend_7d" of`}},
		{name: "unknown format", csv: "customer_id,event_timestamp\nc1,2025-03-01\n", args: []string{"--out", "train.json"}, wantErr: []string{"cannot tell the format of train.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake.mu.Lock()
			fake.header = nil
			fake.mu.Unlock()
			rows := writeTemp(t, "rows.csv", tc.csv)
			args := append([]string{"features", "historical", "--entities", rows, "--service", "churn_v1", "--out", out}, tc.args...)
			res := runCLI(t, env, "", args...)
			if res.code != 2 {
				t.Fatalf("exit %d, want 2\n%s%s", res.code, res.stdout, res.stderr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if fake.header != nil {
				t.Errorf("a stream was opened")
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a training set was written")
			}
		})
	}
}
