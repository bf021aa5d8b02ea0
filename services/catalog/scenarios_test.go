package catalog_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/aifactory/aifactory/libs/bus"
	"github.com/aifactory/aifactory/libs/service"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"

	"github.com/google/go-cmp/cmp"
)

var domainLine = regexp.MustCompile(`(?m)^domain: .*$`)

func replaceDomain(t *testing.T, doc, domain string) string {
	t.Helper()
	if !domainLine.MatchString(doc) {
		t.Fatal("example has no top-level domain line")
	}
	return domainLine.ReplaceAllString(doc, "domain: "+domain)
}

func TestDomainsAndAuthorization(t *testing.T) {
	eachEngine(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sales := h.dom("sales")

		_, err := h.as("mallory").CreateDomain(ctx, &catalogv1.CreateDomainRequest{Domain: &catalogv1.Domain{Name: sales}})
		wantCode(t, err, codes.PermissionDenied)

		h.mustDomain(sales, "alice")
		_, err = h.as("admin").CreateDomain(ctx, &catalogv1.CreateDomainRequest{Domain: &catalogv1.Domain{Name: sales}})
		wantCode(t, err, codes.AlreadyExists)

		// Members change products; others are refused and nothing is stored.
		h.mustProduct("alice", sales, "orders", 0)
		_, err = h.as("mallory").CreateDataProduct(ctx, &catalogv1.CreateDataProductRequest{Product: &catalogv1.DataProduct{Domain: sales, Name: "refunds"}})
		wantCode(t, err, codes.PermissionDenied)
		_, err = h.as("alice").GetDataProduct(ctx, &catalogv1.GetDataProductRequest{Domain: sales, Name: "refunds"})
		wantCode(t, err, codes.NotFound)

		// Only owners (or admins) manage members.
		_, err = h.as("alice").UpdateDomainMembers(ctx, &catalogv1.UpdateDomainMembersRequest{Name: sales, AddMembers: []string{"mallory"}})
		wantCode(t, err, codes.PermissionDenied)
		d, err := h.as("owner-"+sales).UpdateDomainMembers(ctx, &catalogv1.UpdateDomainMembersRequest{Name: sales, AddMembers: []string{"bob"}, RemoveMembers: []string{"alice"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.GetDomain().GetMembers(); !cmp.Equal(got, []string{"bob"}) {
			t.Fatalf("members = %v, want [bob]", got)
		}
		_, err = h.as("alice").UpdateDataProduct(ctx, &catalogv1.UpdateDataProductRequest{
			Product: &catalogv1.DataProduct{Domain: sales, Name: "orders", Title: "x"}, UpdateMask: []string{"title"}})
		wantCode(t, err, codes.PermissionDenied)

		// Everyone authenticated reads.
		if _, err := h.as("mallory").GetDataProduct(ctx, &catalogv1.GetDataProductRequest{Domain: sales, Name: "orders"}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestUnauthenticated(t *testing.T) {
	eachEngine(t, func(t *testing.T, h *harness) {
		conn, err := service.Dial(h.addr, service.StaticToken(""))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = catalogv1.NewCatalogServiceClient(conn).ListDomains(t.Context(), &catalogv1.ListDomainsRequest{})
		wantCode(t, err, codes.Unauthenticated)
	})
}

func TestBadInputIsInvalidArgumentWithFieldPaths(t *testing.T) {
	eachEngine(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sales := h.dom("sales")
		h.mustDomain(sales, "alice")
		h.mustProduct("alice", sales, "orders", 0)
		if _, err := h.as("alice").PublishContract(ctx, &catalogv1.PublishContractRequest{
			Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: h.example("sales-orders.odcs.yaml", sales)},
		}); err != nil {
			t.Fatal(err)
		}
		before, err := h.as("alice").ListContractVersions(ctx, &catalogv1.ListContractVersionsRequest{Domain: sales, Product: "orders"})
		if err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			name  string
			call  func() error
			field string
		}{
			{"bad domain name", func() error {
				_, err := h.as("admin").CreateDomain(ctx, &catalogv1.CreateDomainRequest{Domain: &catalogv1.Domain{Name: "Sales_Team"}})
				return err
			}, "domain.name"},
			{"bad product name", func() error {
				_, err := h.as("alice").CreateDataProduct(ctx, &catalogv1.CreateDataProductRequest{Product: &catalogv1.DataProduct{Domain: sales, Name: "-orders"}})
				return err
			}, "product.name"},
			{"broken yaml", func() error {
				_, err := h.as("alice").PublishContract(ctx, &catalogv1.PublishContractRequest{
					Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: "apiVersion: [unclosed"}})
				return err
			}, "odcs_yaml"},
			{"bad version", func() error {
				doc := strings.Replace(h.example("sales-orders.odcs.yaml", sales), "version: 1.0.0", "version: one", 1)
				_, err := h.as("alice").PublishContract(ctx, &catalogv1.PublishContractRequest{
					Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: doc}})
				return err
			}, "odcs_yaml"},
			{"page size", func() error {
				_, err := h.as("alice").ListDataProducts(ctx, &catalogv1.ListDataProductsRequest{PageSize: 100000})
				return err
			}, "page_size"},
			{"page token", func() error {
				_, err := h.as("alice").ListDataProducts(ctx, &catalogv1.ListDataProductsRequest{PageToken: "garbage!"})
				return err
			}, "page_token"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.call()
				wantCode(t, err, codes.InvalidArgument)
				vs := service.BadRequestFromError(err)
				if len(vs) == 0 {
					t.Fatalf("no BadRequest details in %v", err)
				}
				if !strings.HasPrefix(vs[0].GetField(), tc.field) {
					t.Fatalf("field = %q, want prefix %q (%v)", vs[0].GetField(), tc.field, err)
				}
			})
		}
		after, err := h.as("alice").ListContractVersions(ctx, &catalogv1.ListContractVersionsRequest{Domain: sales, Product: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(before, after) {
			t.Fatal("a refused call changed the stored contracts")
		}
	})
}

func TestPublishBreakingAndCompatible(t *testing.T) {
	eachEngine(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sales := h.dom("sales")
		h.mustDomain(sales, "alice")
		h.mustProduct("alice", sales, "orders", 0)
		alice := h.as("alice")

		res, err := alice.PublishContract(ctx, &catalogv1.PublishContractRequest{
			Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: h.example("sales-orders.odcs.yaml", sales)}})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.GetProduct().GetOutputPorts(); len(got) != 1 || got[0].GetName() != "v1" || got[0].GetLatestVersion() != "1.0.0" {
			t.Fatalf("ports = %v", got)
		}
		if res.GetProduct().GetStatus() != catalogv1.ProductStatus_PRODUCT_STATUS_ACTIVE {
			t.Fatalf("product status = %v, want ACTIVE after its first active contract", res.GetProduct().GetStatus())
		}

		breaking := h.example("sales-orders-v1.1-breaking.odcs.yaml", sales)
		chk, err := alice.CheckCompatibility(ctx, &catalogv1.CheckCompatibilityRequest{
			Source: &catalogv1.CheckCompatibilityRequest_OdcsYaml{OdcsYaml: breaking}})
		if err != nil {
			t.Fatal(err)
		}
		if chk.GetCompatible() || len(chk.GetViolations()) < 2 {
			t.Fatalf("check = %v, want several violations", chk)
		}
		_, err = alice.PublishContract(ctx, &catalogv1.PublishContractRequest{
			Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: breaking}})
		wantCode(t, err, codes.FailedPrecondition)
		pf := service.PreconditionViolations(err)
		if len(pf) != len(chk.GetViolations()) {
			t.Fatalf("publish listed %d violations, check %d: %v", len(pf), len(chk.GetViolations()), err)
		}
		for i, v := range chk.GetViolations() {
			if pf[i].GetSubject() != v.GetField() || pf[i].GetType() != v.GetRule() {
				t.Errorf("violation %d: publish %s/%s, check %s/%s", i, pf[i].GetSubject(), pf[i].GetType(), v.GetField(), v.GetRule())
			}
		}

		compatible := h.example("sales-orders-v1.1.odcs.yaml", sales)
		res, err = alice.PublishContract(ctx, &catalogv1.PublishContractRequest{
			Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: compatible}})
		if err != nil {
			t.Fatalf("compatible version refused: %v", err)
		}
		if got := res.GetProduct().GetOutputPorts()[0].GetLatestVersion(); got != "1.1.0" {
			t.Fatalf("port v1 latest = %s, want 1.1.0", got)
		}
		// The same version again is AlreadyExists.
		_, err = alice.PublishContract(ctx, &catalogv1.PublishContractRequest{
			Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: compatible}})
		wantCode(t, err, codes.AlreadyExists)

		// The breaking change as a new major opens port v2; v1 keeps serving.
		major := strings.Replace(breaking, "version: 1.1.0", "version: 2.0.0", 1)
		res, err = alice.PublishContract(ctx, &catalogv1.PublishContractRequest{
			Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: major}})
		if err != nil {
			t.Fatalf("new major refused: %v", err)
		}
		ports := res.GetProduct().GetOutputPorts()
		if len(ports) != 2 || ports[0].GetStatus() != catalogv1.PortStatus_PORT_STATUS_ACTIVE || ports[1].GetName() != "v2" {
			t.Fatalf("ports = %v", ports)
		}
		// The example's 2.0.0 is a draft: its port serves nothing until activated.
		if ports[1].GetStatus() != catalogv1.PortStatus_PORT_STATUS_DRAFT {
			t.Fatalf("port v2 status = %v, want DRAFT for a draft-only major", ports[1].GetStatus())
		}
		r, err := alice.SetContractStatus(ctx, &catalogv1.SetContractStatusRequest{Domain: sales, Product: "orders", Version: "2.0.0", Status: catalogv1.ContractStatus_CONTRACT_STATUS_ACTIVE})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.GetProduct().GetOutputPorts()[1].GetStatus(); got != catalogv1.PortStatus_PORT_STATUS_ACTIVE {
			t.Fatalf("port v2 after activation = %v", got)
		}

		// Deprecate then retire v1; the lifecycle does not go back.
		for _, st := range []catalogv1.ContractStatus{catalogv1.ContractStatus_CONTRACT_STATUS_DEPRECATED, catalogv1.ContractStatus_CONTRACT_STATUS_RETIRED} {
			r, err := alice.SetContractStatus(ctx, &catalogv1.SetContractStatusRequest{Domain: sales, Product: "orders", Version: "1.1.0", Status: st})
			if err != nil {
				t.Fatal(err)
			}
			if want := catalogv1.PortStatus(st - 1); r.GetProduct().GetOutputPorts()[0].GetStatus() != want {
				t.Fatalf("port v1 status = %v, want %v", r.GetProduct().GetOutputPorts()[0].GetStatus(), want)
			}
		}
		_, err = alice.SetContractStatus(ctx, &catalogv1.SetContractStatusRequest{Domain: sales, Product: "orders", Version: "1.1.0", Status: catalogv1.ContractStatus_CONTRACT_STATUS_ACTIVE})
		wantCode(t, err, codes.FailedPrecondition)

		hist, err := alice.ListContractVersions(ctx, &catalogv1.ListContractVersionsRequest{Domain: sales, Product: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		var versions []string
		for _, c := range hist.GetContracts() {
			versions = append(versions, c.GetVersion())
		}
		if !cmp.Equal(versions, []string{"1.0.0", "1.1.0", "2.0.0"}) {
			t.Fatalf("history = %v", versions)
		}
		got, err := alice.GetContract(ctx, &catalogv1.GetContractRequest{Domain: sales, Product: "orders", Major: 1})
		if err != nil || got.GetContract().GetVersion() != "1.1.0" {
			t.Fatalf("newest of major 1 = %v, %v", got.GetContract().GetVersion(), err)
		}
	})
}

// TestEveryModeRefusesItsBreakingChange publishes, per mode, a change that
// breaks that mode and one it allows.
func TestEveryModeRefusesItsBreakingChange(t *testing.T) {
	const base = `apiVersion: v3.1.0
kind: DataContract
id: %[1]s.events
domain: %[1]s
dataProduct: events
version: %[2]s
status: active
schema:
  - name: events
    properties:
%[3]s`
	const idField = "      - name: id\n        logicalType: string\n        required: true\n"
	const noteOpt = "      - name: note\n        logicalType: string\n"
	const noteReq = "      - name: note\n        logicalType: string\n        required: true\n"
	tests := []struct {
		mode            catalogv1.CompatibilityMode
		v1, bad, good   string
		wantRuleOnBreak string
	}{
		// BACKWARD: the new contract reads old data, so a new required field breaks.
		{catalogv1.CompatibilityMode_COMPATIBILITY_MODE_BACKWARD, idField, idField + noteReq, idField + noteOpt, "field_added_required"},
		// FORWARD: old readers read new data, so removing a required field breaks.
		{catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FORWARD, idField + noteReq, idField, idField + noteReq + "      - name: extra\n        logicalType: string\n", "field_removed"},
		{catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FULL, idField + noteOpt, idField + noteReq, idField + noteOpt + "      - name: extra\n        logicalType: string\n", ""},
		{catalogv1.CompatibilityMode_COMPATIBILITY_MODE_NONE, idField, "      - name: other\n        logicalType: integer\n        required: true\n", idField, ""},
	}
	eachEngine(t, func(t *testing.T, h *harness) {
		for i, tc := range tests {
			t.Run(tc.mode.String(), func(t *testing.T) {
				ctx := t.Context()
				d := h.dom(fmt.Sprintf("m%d", i))
				h.mustDomain(d, "alice")
				h.mustProduct("alice", d, "events", tc.mode)
				pub := func(version, fields string) error {
					_, err := h.as("alice").PublishContract(ctx, &catalogv1.PublishContractRequest{
						Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: fmt.Sprintf(base, d, version, fields)}})
					return err
				}
				if err := pub("1.0.0", tc.v1); err != nil {
					t.Fatal(err)
				}
				err := pub("1.1.0", tc.bad)
				if tc.mode == catalogv1.CompatibilityMode_COMPATIBILITY_MODE_NONE {
					if err != nil {
						t.Fatalf("NONE refused a change: %v", err)
					}
					return
				}
				wantCode(t, err, codes.FailedPrecondition)
				if tc.wantRuleOnBreak != "" {
					found := false
					for _, v := range service.PreconditionViolations(err) {
						found = found || v.GetType() == tc.wantRuleOnBreak
					}
					if !found {
						t.Fatalf("violations %v lack rule %s", service.PreconditionViolations(err), tc.wantRuleOnBreak)
					}
				}
				if err := pub("1.1.0", tc.good); err != nil {
					t.Fatalf("compatible change refused: %v", err)
				}
			})
		}
	})
}

func TestExportRoundTrip(t *testing.T) {
	files := map[string]string{
		"catalog":          "catalog-products.odcs.yaml",
		"customer-service": "customer-service-reviews.odcs.yaml",
		"logistics":        "logistics-shipments.odcs.yaml",
		"sales":            "sales-orders.odcs.yaml",
	}
	eachEngine(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		for base, file := range files {
			d := h.dom(base)
			h.mustDomain(d, "alice")
			doc := h.example(file, d)
			product := regexp.MustCompile(`(?m)^dataProduct: (.*)$`).FindStringSubmatch(doc)[1]
			h.mustProduct("alice", d, product, 0)
			pub, err := h.as("alice").PublishContract(ctx, &catalogv1.PublishContractRequest{
				Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: doc}})
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if len(pub.GetUnmodeled()) != 0 {
				t.Errorf("%s: unmodeled elements in our own example: %v", file, pub.GetUnmodeled())
			}
			exp, err := h.as("alice").ExportContract(ctx, &catalogv1.ExportContractRequest{Domain: d, Product: product})
			if err != nil {
				t.Fatal(err)
			}
			// Publishing the export as the next patch stores the same contract.
			again := strings.Replace(exp.GetOdcsYaml(), "version: "+pub.GetContract().GetVersion(), "version: 9.9.9", 1)
			pub2, err := h.as("alice").PublishContract(ctx, &catalogv1.PublishContractRequest{
				Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: again}})
			if err != nil {
				t.Fatalf("%s: re-import of the export: %v", file, err)
			}
			want, got := pub.GetContract(), pub2.GetContract()
			if diff := cmp.Diff(want, got, protocmp.Transform(),
				protocmp.IgnoreFields(&catalogv1.Contract{}, "version", "created_at", "created_by")); diff != "" {
				t.Errorf("%s: export/import changed the contract (-want +got):\n%s", file, diff)
			}
		}
	})
}

func TestListSearchAndPaging(t *testing.T) {
	eachEngine(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sales, logistics := h.dom("sales"), h.dom("logistics")
		h.mustDomain(sales, "alice")
		h.mustDomain(logistics, "alice")
		for i := range 7 {
			h.mustProduct("alice", sales, fmt.Sprintf("p%02d", i), 0, "finance")
		}
		h.mustProduct("alice", logistics, "shipments", 0, "ops")
		if _, err := h.as("alice").PublishContract(ctx, &catalogv1.PublishContractRequest{
			Source:  &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: h.example("sales-orders.odcs.yaml", sales)},
			Product: "p03"}); err == nil {
			t.Fatal("a contract naming another product was accepted")
		}
		h.mustProduct("alice", sales, "orders", 0, "finance", "pii")
		if _, err := h.as("alice").PublishContract(ctx, &catalogv1.PublishContractRequest{
			Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: h.example("sales-orders.odcs.yaml", sales)}}); err != nil {
			t.Fatal(err)
		}

		// Page through the sales domain, 3 at a time.
		var names []string
		token := ""
		for {
			r, err := h.as("bob").ListDataProducts(ctx, &catalogv1.ListDataProductsRequest{
				Filter: &catalogv1.ProductFilter{Domain: sales}, PageSize: 3, PageToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range r.GetProducts() {
				names = append(names, p.GetName())
			}
			if token = r.GetNextPageToken(); token == "" {
				break
			}
		}
		want := []string{"orders", "p00", "p01", "p02", "p03", "p04", "p05", "p06"}
		if !cmp.Equal(names, want) {
			t.Fatalf("paged names = %v, want %v", names, want)
		}

		search := func(q string, f *catalogv1.ProductFilter) []string {
			t.Helper()
			r, err := h.as("bob").SearchDataProducts(ctx, &catalogv1.SearchDataProductsRequest{Query: q, Filter: f})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, p := range r.GetProducts() {
				if p.GetDomain() == sales || p.GetDomain() == logistics {
					out = append(out, p.GetDomain()+"/"+p.GetName())
				}
			}
			sort.Strings(out)
			return out
		}
		// Field names of the contract are searchable.
		if got := search("customer_email", nil); !cmp.Equal(got, []string{sales + "/orders"}) {
			t.Fatalf("search by field = %v", got)
		}
		if got := search("SHIPMENTS", nil); !cmp.Equal(got, []string{logistics + "/shipments"}) {
			t.Fatalf("search case-insensitive = %v", got)
		}
		if got := search("", &catalogv1.ProductFilter{Tag: "ops"}); !cmp.Equal(got, []string{logistics + "/shipments"}) {
			t.Fatalf("tag filter = %v", got)
		}
		if got := search("", &catalogv1.ProductFilter{Classification: catalogv1.Classification_CLASSIFICATION_PII}); !cmp.Equal(got, []string{sales + "/orders"}) {
			t.Fatalf("classification filter = %v", got)
		}
		if got := search("", &catalogv1.ProductFilter{Domain: sales, Status: catalogv1.ProductStatus_PRODUCT_STATUS_ACTIVE}); !cmp.Equal(got, []string{sales + "/orders"}) {
			t.Fatalf("status filter = %v", got)
		}
		if got := search("the p0 finance", &catalogv1.ProductFilter{Domain: sales}); len(got) != 7 {
			t.Fatalf("multi-word search = %v", got)
		}
	})
}

// TestConcurrentPublishOneWinner: twenty concurrent publishes of the same
// product's next version leave exactly one winner and nineteen clear errors.
func TestConcurrentPublishOneWinner(t *testing.T) {
	eachEngine(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sales := h.dom("sales")
		h.mustDomain(sales, "alice")
		h.mustProduct("alice", sales, "orders", 0)
		alice := h.as("alice")
		if _, err := alice.PublishContract(ctx, &catalogv1.PublishContractRequest{
			Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: h.example("sales-orders.odcs.yaml", sales)}}); err != nil {
			t.Fatal(err)
		}
		next := h.example("sales-orders-v1.1.odcs.yaml", sales)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
			errs []error
		)
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := alice.PublishContract(ctx, &catalogv1.PublishContractRequest{
					Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: next}})
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins++
				} else {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 || len(errs) != 19 {
			t.Fatalf("wins = %d, errors = %d (%v)", wins, len(errs), errs)
		}
		for _, err := range errs {
			if c := status.Code(err); c != codes.AlreadyExists {
				t.Fatalf("loser got %v, want AlreadyExists", err)
			}
		}
	})
}

// TestEventsRebuildState rebuilds domains, products and contracts from the
// CATALOG stream alone and compares them with what the API serves.
func TestEventsRebuildState(t *testing.T) {
	eachEngine(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		sales := h.dom("sales")
		h.mustDomain(sales, "alice")
		h.mustProduct("alice", sales, "orders", 0, "finance")
		alice := h.as("alice")
		for _, f := range []string{"sales-orders.odcs.yaml", "sales-orders-v1.1.odcs.yaml"} {
			if _, err := alice.PublishContract(ctx, &catalogv1.PublishContractRequest{
				Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: h.example(f, sales)}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := alice.SetContractStatus(ctx, &catalogv1.SetContractStatusRequest{Domain: sales, Product: "orders", Version: "1.0.0",
			Status: catalogv1.ContractStatus_CONTRACT_STATUS_DEPRECATED}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.as("owner-"+sales).UpdateDomainMembers(ctx, &catalogv1.UpdateDomainMembersRequest{Name: sales, AddMembers: []string{"bob"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.UpdateDataProduct(ctx, &catalogv1.UpdateDataProductRequest{
			Product:    &catalogv1.DataProduct{Domain: sales, Name: "orders", Title: "Orders", Compatibility: catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FULL},
			UpdateMask: []string{"title", "compatibility"}}); err != nil {
			t.Fatal(err)
		}

		// What the API serves.
		wantDomain, err := alice.GetDomain(ctx, &catalogv1.GetDomainRequest{Name: sales})
		if err != nil {
			t.Fatal(err)
		}
		wantProduct, err := alice.GetDataProduct(ctx, &catalogv1.GetDataProductRequest{Domain: sales, Name: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		wantHistory, err := alice.ListContractVersions(ctx, &catalogv1.ListContractVersionsRequest{Domain: sales, Product: "orders"})
		if err != nil {
			t.Fatal(err)
		}

		// What the stream alone says, read with an ephemeral ordered consumer.
		var (
			domain    *catalogv1.Domain
			product   *catalogv1.DataProduct
			contracts = map[string]*catalogv1.Contract{}
		)
		deadline := time.Now().Add(10 * time.Second)
		for {
			domain, product, contracts = nil, nil, map[string]*catalogv1.Contract{}
			replay(t, h.bus, "catalog."+sales+".>", func(ev bus.Event) {
				switch ev.Type {
				case "aifactory.catalog.v1.DomainChanged":
					m := &catalogv1.DomainChanged{}
					mustUnmarshal(t, ev.Data, m)
					domain = m.GetDomain()
				case "aifactory.catalog.v1.DataProductChanged":
					m := &catalogv1.DataProductChanged{}
					mustUnmarshal(t, ev.Data, m)
					product = m.GetProduct()
				case "aifactory.catalog.v1.ContractPublished":
					m := &catalogv1.ContractPublished{}
					mustUnmarshal(t, ev.Data, m)
					contracts[m.GetContract().GetVersion()] = m.GetContract()
				case "aifactory.catalog.v1.ContractStatusChanged":
					m := &catalogv1.ContractStatusChanged{}
					mustUnmarshal(t, ev.Data, m)
					contracts[m.GetContract().GetVersion()] = m.GetContract()
				default:
					t.Fatalf("unexpected event type %q", ev.Type)
				}
			})
			if proto.Equal(product, wantProduct.GetProduct()) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond) // the relay publishes just after the commit
		}
		if diff := cmp.Diff(wantDomain.GetDomain(), domain, protocmp.Transform()); diff != "" {
			t.Errorf("domain rebuilt from events differs (-api +events):\n%s", diff)
		}
		if diff := cmp.Diff(wantProduct.GetProduct(), product, protocmp.Transform()); diff != "" {
			t.Errorf("product rebuilt from events differs (-api +events):\n%s", diff)
		}
		if len(contracts) != len(wantHistory.GetContracts()) {
			t.Fatalf("events hold %d contract versions, the API %d", len(contracts), len(wantHistory.GetContracts()))
		}
		for _, c := range wantHistory.GetContracts() {
			if diff := cmp.Diff(c, contracts[c.GetVersion()], protocmp.Transform()); diff != "" {
				t.Errorf("contract %s rebuilt from events differs:\n%s", c.GetVersion(), diff)
			}
		}
	})
}

// replay delivers every message on subject in the CATALOG stream, in order.
func replay(t *testing.T, b *bus.Bus, subject string, fn func(bus.Event)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	stream, err := b.JetStream().Stream(ctx, bus.CatalogStream.Name)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pending := info.NumPending
	for pending > 0 {
		batch, err := cons.Fetch(int(min(pending, 100)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			ev, err := bus.EventFromMsg(m)
			if err != nil {
				t.Fatal(err)
			}
			fn(ev)
			n++
		}
		if n == 0 {
			t.Fatalf("stream stopped with %d messages pending", pending)
		}
		pending -= uint64(n)
	}
}

func mustUnmarshal(t *testing.T, b []byte, m proto.Message) {
	t.Helper()
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatal(err)
	}
}
