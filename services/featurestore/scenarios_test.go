package featurestore_test

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

const (
	custA = "a0000000-0000-4000-8000-00000000000a"
	custB = "b0000000-0000-4000-8000-00000000000b"
)

// setupRetailer registers the retailer's products, grants the sales domain
// reads of reviews and shipments, and applies examples/retailer/features.yaml.
func setupRetailer(t testing.TB, m *mesh) {
	t.Helper()
	m.product("sales", "orders", "sales-orders.odcs.yaml")
	m.product("customer-service", "reviews", "customer-service-reviews.odcs.yaml")
	m.product("logistics", "shipments", "logistics-shipments.odcs.yaml")
	ctx := t.Context()
	doc := m.featuresYAML()
	// Without grants the sales domain may not read the other domains' products.
	_, err := m.client("sam").Apply(ctx, &featurestorev1.ApplyRequest{Yaml: doc})
	wantCode(t, err, codes.PermissionDenied)
	m.grant("customer-service", "reviews", "sales")
	m.grant("logistics", "shipments", "sales")
	_, err = m.client("mallory").Apply(ctx, &featurestorev1.ApplyRequest{Yaml: doc})
	wantCode(t, err, codes.PermissionDenied)
	// Grants reach the feature store through the catalog's events, a few
	// milliseconds after the grant returns.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, err := m.client("sam").Apply(ctx, &featurestorev1.ApplyRequest{Yaml: doc, DryRun: true})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("grants never reached the feature store: %v", err)
		}
	}
	resp, err := m.client("sam").Apply(ctx, &featurestorev1.ApplyRequest{Yaml: doc})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetChanges()) != 7 {
		t.Fatalf("changes = %v", resp.GetChanges())
	}
	for _, c := range resp.GetChanges() {
		if c.GetAction() != "created" || c.GetVersion() != 1 {
			t.Fatalf("change %v", c)
		}
	}
	again, err := m.client("sam").Apply(ctx, &featurestorev1.ApplyRequest{Yaml: doc})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range again.GetChanges() {
		if c.GetAction() != "unchanged" {
			t.Fatalf("re-apply changed %v", c)
		}
	}
}

// online polls GetOnlineFeatures until ok accepts the answer.
func online(t testing.TB, m *mesh, req *featurestorev1.GetOnlineFeaturesRequest, ok func(*featurestorev1.GetOnlineFeaturesResponse) bool) *featurestorev1.GetOnlineFeaturesResponse {
	t.Helper()
	var last *featurestorev1.GetOnlineFeaturesResponse
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r, err := m.client("sam").GetOnlineFeatures(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if last = r; ok(r) {
			return r
		}
	}
	t.Fatalf("online features never matched; last: %v", last)
	return nil
}

func i64(v *featurestorev1.Value) int64   { return v.GetInt64Value() }
func f64(v *featurestorev1.Value) float64 { return v.GetDoubleValue() }

func TestRetailerOnlineAndHistorical(t *testing.T) {
	eachSetup(t, func(t *testing.T, m *mesh) {
		setupRetailer(t, m)
		now := time.Now().UTC().Truncate(time.Second)
		day := 24 * time.Hour
		m.ingest("sales", "orders", "order_ts",
			order(1, custA, "10.00", "web", now.Add(-1*day)),
			order(2, custA, "20.00", "mobile_app", now.Add(-3*day)),
			order(3, custA, "100.00", "web", now.Add(-10*day)),
		)
		req := &featurestorev1.GetOnlineFeaturesRequest{FeatureService: "churn_v1",
			Entities: []*featurestorev1.EntityRow{customer(custA), customer(custB)}}
		r := online(t, m, req, func(r *featurestorev1.GetOnlineFeaturesResponse) bool {
			return r.GetColumns()[1].GetInt64S()[0] == 2
		})
		cols := r.GetColumns()
		if got := cols[0].GetDoubles()[0]; math.Abs(got-30) > 1e-9 {
			t.Errorf("spend_7d = %v, want 30", got)
		}
		if got := cols[2].GetDoubles()[0]; math.Abs(got-1) > 0.01 {
			t.Errorf("days_since_last_order = %v, want ~1", got)
		}
		if got := cols[3].GetStrings()[0]; got != "web" {
			t.Errorf("last_channel = %q, want web", got)
		}
		for i, c := range cols {
			if st := c.GetStatuses()[0]; st != featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT || c.GetNulls()[0] {
				t.Errorf("feature %d of A: %v (null %v)", i, st, c.GetNulls()[0])
			}
			if st := c.GetStatuses()[1]; st != featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND || !c.GetNulls()[1] {
				t.Errorf("feature %d of B: %v, want NOT_FOUND and null", i, st)
			}
		}

		// The same entities column-major answer the same; bad columns are
		// refused with the field named.
		byCols := &featurestorev1.GetOnlineFeaturesRequest{FeatureService: "churn_v1", EntityColumns: []*featurestorev1.JoinKeyColumn{
			{Name: "customer_id", Strings: []string{custA, custB}}}}
		rc, err := m.client("sam").GetOnlineFeatures(t.Context(), byCols)
		if err != nil {
			t.Fatal(err)
		}
		// Values and statuses equal; days_since_last_order moves with the clock.
		for i := range r.GetColumns() {
			if i == 2 {
				continue
			}
			if !proto.Equal(rc.GetColumns()[i], r.GetColumns()[i]) {
				t.Errorf("column %d by entity_columns %v, by entities %v", i, rc.GetColumns()[i], r.GetColumns()[i])
			}
		}
		for _, tc := range []struct {
			req  *featurestorev1.GetOnlineFeaturesRequest
			want string
		}{
			{&featurestorev1.GetOnlineFeaturesRequest{FeatureService: "churn_v1", Entities: req.GetEntities(), EntityColumns: byCols.GetEntityColumns()}, "not both"},
			{&featurestorev1.GetOnlineFeaturesRequest{FeatureService: "churn_v1", EntityColumns: []*featurestorev1.JoinKeyColumn{
				{Name: "customer_id", Strings: []string{custA}}, {Name: "region", Int64S: []int64{1, 2}}}}, "has 2 values"},
			{&featurestorev1.GetOnlineFeaturesRequest{FeatureService: "churn_v1", EntityColumns: []*featurestorev1.JoinKeyColumn{
				{Name: "customer_id", Strings: []string{custA}, Int64S: []int64{1}}}}, "not both or neither"},
			{&featurestorev1.GetOnlineFeaturesRequest{FeatureService: "churn_v1", EntityColumns: []*featurestorev1.JoinKeyColumn{
				{Name: "order_id", Strings: []string{custA}}}}, `join key "customer_id" of entity "customer" missing`},
		} {
			_, err := m.client("sam").GetOnlineFeatures(t.Context(), tc.req)
			wantCode(t, err, codes.InvalidArgument)
			if !strings.Contains(status.Convert(err).Message()+fmt.Sprint(status.Convert(err).Details()), tc.want) {
				t.Errorf("error %v, want it to say %q", err, tc.want)
			}
		}

		// A late, older order: counted, but it never moves last_channel back.
		m.ingest("sales", "orders", "order_ts", order(4, custA, "5.00", "marketplace", now.Add(-2*day)))
		r = online(t, m, req, func(r *featurestorev1.GetOnlineFeaturesResponse) bool {
			return r.GetColumns()[1].GetInt64S()[0] == 3
		})
		if got := r.GetColumns()[3].GetStrings()[0]; got != "web" {
			t.Errorf("last_channel after a late older order = %q, want web", got)
		}

		// Point in time: never a value from the future.
		rows := []*featurestorev1.HistoricalRow{
			{JoinKeys: customer(custA).GetJoinKeys(), Timestamp: timestamppb.New(now.Add(-5 * day)), Extra: []*featurestorev1.Value{str("label-0")}},
			{JoinKeys: customer(custA).GetJoinKeys(), Timestamp: timestamppb.New(now.Add(-2 * day)), Extra: []*featurestorev1.Value{str("label-1")}},
			{JoinKeys: customer(custA).GetJoinKeys(), Timestamp: timestamppb.New(now.Add(-20 * day)), Extra: []*featurestorev1.Value{str("label-2")}},
			{JoinKeys: customer(custB).GetJoinKeys(), Timestamp: timestamppb.New(now), Extra: []*featurestorev1.Value{str("label-3")}},
		}
		// The offline history is written by its own consumer: wait until it
		// holds the late order too.
		var joined []*featurestorev1.JoinedRow
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			joined = historical(t, m, &featurestorev1.HistoricalHeader{FeatureService: "churn_v1", ExtraColumns: []string{"label"}}, rows)
			if i64(joined[1].GetFeatures().GetValues()[1]) == 2 || time.Now().After(deadline) {
				break
			}
		}
		type want struct {
			spend  float64
			count  int64
			ch     string
			status featurestorev1.FeatureStatus
		}
		present, notFound := featurestorev1.FeatureStatus_FEATURE_STATUS_PRESENT, featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND
		wants := []want{
			{100, 1, "web", present},        // at -5d: only the -10d order is visible
			{25, 2, "marketplace", present}, // at -2d: -3d and the late -2d order; newest is the -2d one
			{0, 0, "", notFound},            // at -20d: nothing yet
			{0, 0, "", notFound},            // B never ordered
		}
		for i, w := range wants {
			jr := joined[i]
			if jr.GetIndex() != int64(i) || jr.GetRow().GetExtra()[0].GetStringValue() != rows[i].GetExtra()[0].GetStringValue() {
				t.Fatalf("row %d came back as %v", i, jr)
			}
			vals, sts := jr.GetFeatures().GetValues(), jr.GetFeatures().GetStatuses()
			if sts[1] != w.status || (w.status == present && (math.Abs(f64(vals[0])-w.spend) > 1e-9 || i64(vals[1]) != w.count || vals[3].GetStringValue() != w.ch)) {
				t.Errorf("row %d: values %v statuses %v, want %+v", i, vals, sts, w)
			}
		}
	})
}

func historical(t *testing.T, m *mesh, h *featurestorev1.HistoricalHeader, rows []*featurestorev1.HistoricalRow) []*featurestorev1.JoinedRow {
	t.Helper()
	st, err := m.client("sam").GetHistoricalFeatures(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&featurestorev1.GetHistoricalFeaturesRequest{Msg: &featurestorev1.GetHistoricalFeaturesRequest_Header{Header: h}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&featurestorev1.GetHistoricalFeaturesRequest{Msg: &featurestorev1.GetHistoricalFeaturesRequest_Rows{Rows: &featurestorev1.HistoricalRows{Rows: rows}}}); err != nil {
		t.Fatal(err)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var out []*featurestorev1.JoinedRow
	for {
		r, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.GetRows()...)
	}
	if len(out) != len(rows) {
		t.Fatalf("%d joined rows, want %d", len(out), len(rows))
	}
	return out
}

func TestApplyVersionsAndErrors(t *testing.T) {
	m := newMesh(t, "sqlite", meshOptions{})
	setupRetailer(t, m)
	ctx := t.Context()
	changed := m.featuresYAML()
	changed = replaceOnce(t, changed, "window: 7d}\n      - {name: orders_7d", "window: 14d}\n      - {name: orders_7d")
	resp, err := m.client("sam").Apply(ctx, &featurestorev1.ApplyRequest{Yaml: changed, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	var updated []*featurestorev1.Change
	for _, c := range resp.GetChanges() {
		if c.GetAction() == "updated" {
			updated = append(updated, c)
		}
	}
	if len(updated) != 1 || updated[0].GetName() != "customer_orders" || updated[0].GetVersion() != 2 || len(updated[0].GetDetails()) == 0 {
		t.Fatalf("plan = %v", resp.GetChanges())
	}
	v, err := m.client("sam").GetFeatureView(ctx, &featurestorev1.GetFeatureViewRequest{Name: "customer_orders"})
	if err != nil || v.GetFeatureView().GetVersion() != 1 {
		t.Fatalf("dry run stored something: %v %v", v, err)
	}
	if _, err := m.client("sam").Apply(ctx, &featurestorev1.ApplyRequest{Yaml: changed}); err != nil {
		t.Fatal(err)
	}
	v, err = m.client("sam").GetFeatureView(ctx, &featurestorev1.GetFeatureViewRequest{Name: "customer_orders"})
	if err != nil || v.GetFeatureView().GetVersion() != 2 {
		t.Fatalf("after apply: %v %v", v, err)
	}

	bad := replaceOnce(t, m.featuresYAML(), "timestamp_field: order_ts", "timestamp_field: ordered_at")
	_, err = m.client("sam").Apply(ctx, &featurestorev1.ApplyRequest{Yaml: bad})
	wantCode(t, err, codes.InvalidArgument)
	_, err = m.client("sam").Apply(ctx, &featurestorev1.ApplyRequest{Yaml: "entities: [{name: Bad-Name, join_keys: [{name: id, type: string}]}]", Domain: m.d("sales")})
	wantCode(t, err, codes.InvalidArgument)
	_, err = m.client("sam").GetOnlineFeatures(ctx, &featurestorev1.GetOnlineFeaturesRequest{Features: []string{"customer_orders:nope"}, Entities: []*featurestorev1.EntityRow{customer(custA)}})
	wantCode(t, err, codes.InvalidArgument)
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	i := strings.Index(s, old)
	if i < 0 {
		t.Fatalf("%q not in the document", old)
	}
	return s[:i] + new + s[i+len(old):]
}

// TestBackfill replays a view's source history over a time range.
func TestBackfill(t *testing.T) {
	m := newMesh(t, "sqlite", meshOptions{})
	setupRetailer(t, m)
	now := time.Now().UTC().Truncate(time.Second)
	m.ingest("sales", "orders", "order_ts",
		order(1, custA, "10.00", "web", now.Add(-48*time.Hour)),
		order(2, custA, "20.00", "web", now.Add(-2*time.Hour)),
		order(3, custB, "30.00", "web", now.Add(-1*time.Hour)),
	)
	st, err := m.client("sam").Backfill(t.Context(), &featurestorev1.BackfillRequest{
		FeatureView: "customer_orders", Start: timestamppb.New(now.Add(-3 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	var last *featurestorev1.BackfillResponse
	for {
		r, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		last = r
	}
	if !last.GetDone() || last.GetRead() != 3 || last.GetMaterialized() != 2 || last.GetSkipped() != 1 {
		t.Fatalf("backfill = %v, want 3 read, 2 in range, 1 skipped", last)
	}
	_, err = recvAll(m, "mallory")
	wantCode(t, err, codes.PermissionDenied)
}

func recvAll(m *mesh, who string) (int, error) {
	st, err := m.client(who).Backfill(m.t.Context(), &featurestorev1.BackfillRequest{FeatureView: "customer_orders"})
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// TestDomainSliceMaterializesOnlyItsViews: a replica serving other domains
// starts no consumer for the sales domain's views.
func TestDomainSliceMaterializesOnlyItsViews(t *testing.T) {
	m := newMesh(t, "sqlite", meshOptions{domains: []string{"nobody"}})
	setupRetailer(t, m)
	m.ingest("sales", "orders", "order_ts", order(1, custA, "10.00", "web", time.Now().Add(-time.Hour)))
	time.Sleep(500 * time.Millisecond)
	r, err := m.client("sam").GetOnlineFeatures(t.Context(), &featurestorev1.GetOnlineFeaturesRequest{
		FeatureService: "churn_v1", Entities: []*featurestorev1.EntityRow{customer(custA)}})
	if err != nil {
		t.Fatal(err)
	}
	if st := r.GetColumns()[1].GetStatuses()[0]; st != featurestorev1.FeatureStatus_FEATURE_STATUS_NOT_FOUND {
		t.Fatalf("a replica for other domains materialized sales' view: %v", st)
	}
}
