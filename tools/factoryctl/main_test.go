package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// fakeCatalog is a test double of the catalog with canned replies, to test
// the CLI's wiring: flags → request, reply → output, status → exit code.
type fakeCatalog struct {
	catalogv1.UnimplementedCatalogServiceServer

	mu       sync.Mutex
	auth     []string
	requests []any
}

func (f *fakeCatalog) record(ctx context.Context, req any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	md, _ := metadata.FromIncomingContext(ctx)
	f.auth = append(f.auth, md.Get("authorization")...)
	f.requests = append(f.requests, req)
}

func (f *fakeCatalog) last() any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

var fakeProducts = []*catalogv1.DataProduct{
	{Domain: "sales", Name: "orders", Title: "Orders", Status: catalogv1.ProductStatus_PRODUCT_STATUS_ACTIVE, OutputPorts: []*catalogv1.OutputPort{
		{Name: "v1", Major: 1, LatestVersion: "1.0.0", Status: catalogv1.PortStatus_PORT_STATUS_ACTIVE, Subject: "data.sales.orders.v1"},
	}},
	{Domain: "sales", Name: "invoices", Title: "Invoices"},
	{Domain: "hr", Name: "staff", Title: "Staff"},
}

func (f *fakeCatalog) ListDataProducts(ctx context.Context, req *catalogv1.ListDataProductsRequest) (*catalogv1.ListDataProductsResponse, error) {
	f.record(ctx, req)
	start := 0
	if req.GetPageToken() == "page2" {
		start = 2
	}
	end := min(start+2, len(fakeProducts))
	resp := &catalogv1.ListDataProductsResponse{Products: fakeProducts[start:end]}
	if end < len(fakeProducts) {
		resp.NextPageToken = "page2"
	}
	return resp, nil
}

func (f *fakeCatalog) GetDataProduct(ctx context.Context, req *catalogv1.GetDataProductRequest) (*catalogv1.GetDataProductResponse, error) {
	f.record(ctx, req)
	if req.GetDomain() != "sales" || req.GetName() != "orders" {
		return nil, status.Errorf(codes.NotFound, "product %s/%s not found", req.GetDomain(), req.GetName())
	}
	return &catalogv1.GetDataProductResponse{Product: fakeProducts[0]}, nil
}

func (f *fakeCatalog) CreateDataProduct(ctx context.Context, req *catalogv1.CreateDataProductRequest) (*catalogv1.CreateDataProductResponse, error) {
	f.record(ctx, req)
	if req.GetProduct().GetOwner() == "" {
		st, _ := status.New(codes.InvalidArgument, "invalid data product").WithDetails(&errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "product.owner", Description: "is required"}},
		})
		return nil, st.Err()
	}
	return &catalogv1.CreateDataProductResponse{Product: req.GetProduct()}, nil
}

func (f *fakeCatalog) UpdateDataProduct(ctx context.Context, req *catalogv1.UpdateDataProductRequest) (*catalogv1.UpdateDataProductResponse, error) {
	f.record(ctx, req)
	return &catalogv1.UpdateDataProductResponse{Product: req.GetProduct()}, nil
}

var fakeViolations = []*catalogv1.Violation{
	{Field: "orders.customer.email", Rule: "field_removed", OldValue: "string", AgainstVersion: "1.0.0"},
	{Field: "orders.status", Rule: "enum_narrowed", OldValue: "new,paid,shipped", NewValue: "new,paid", AgainstVersion: "1.0.0"},
}

func (f *fakeCatalog) PublishContract(ctx context.Context, req *catalogv1.PublishContractRequest) (*catalogv1.PublishContractResponse, error) {
	f.record(ctx, req)
	if strings.Contains(req.GetOdcsYaml(), "breaking") {
		st, _ := status.New(codes.FailedPrecondition, "contract 1.1.0 of sales/orders is not backward compatible").WithDetails(&errdetails.PreconditionFailure{
			Violations: []*errdetails.PreconditionFailure_Violation{{Type: "field_removed", Subject: "orders.customer.email", Description: "removed"}},
		})
		return nil, st.Err()
	}
	return &catalogv1.PublishContractResponse{
		Contract:  &catalogv1.Contract{Domain: "sales", Product: "orders", Version: "1.1.0", Status: catalogv1.ContractStatus_CONTRACT_STATUS_ACTIVE},
		Product:   fakeProducts[0],
		Unmodeled: []string{"servers", "schema[0].authoritativeDefinitions"},
	}, nil
}

func (f *fakeCatalog) CheckCompatibility(ctx context.Context, req *catalogv1.CheckCompatibilityRequest) (*catalogv1.CheckCompatibilityResponse, error) {
	f.record(ctx, req)
	resp := &catalogv1.CheckCompatibilityResponse{Compatible: true, ComparedVersions: []string{"1.0.0"}, Mode: catalogv1.CompatibilityMode_COMPATIBILITY_MODE_BACKWARD}
	if strings.Contains(req.GetOdcsYaml(), "breaking") {
		resp.Compatible, resp.Violations = false, fakeViolations
	}
	return resp, nil
}

// startFake serves a fakeCatalog on a loopback port.
func startFake(t *testing.T) (*fakeCatalog, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeCatalog{}
	srv := grpc.NewServer()
	catalogv1.RegisterCatalogServiceServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return fake, lis.Addr().String()
}

type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs factoryctl with args, environment env and stdin.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, streams{in: strings.NewReader(stdin), out: &out, err: &errOut}, func(k string) string { return env[k] })
	return result{out.String(), errOut.String(), code}
}

func TestCommands(t *testing.T) {
	fake, addr := startFake(t)
	env := map[string]string{"FACTORY_ADDR": addr, "FACTORY_TOKEN": "test-token"}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("apiVersion: v3.1.0\nkind: DataContract\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantOut    []string // substrings of stdout
		wantErr    []string // substrings of stderr
		checkReq   func(t *testing.T, req any)
		wantNoCall bool
	}{
		{
			name:    "product list follows pages",
			args:    []string{"catalog", "product", "list", "--status", "ACTIVE", "--classification", "pii"},
			wantOut: []string{"PRODUCT", "sales/orders", "sales/invoices", "hr/staff"},
			checkReq: func(t *testing.T, req any) {
				f := req.(*catalogv1.ListDataProductsRequest).GetFilter()
				if f.GetStatus() != catalogv1.ProductStatus_PRODUCT_STATUS_ACTIVE || f.GetClassification() != catalogv1.Classification_CLASSIFICATION_PII {
					t.Errorf("filter = %v", f)
				}
			},
		},
		{
			name:    "product list --limit",
			args:    []string{"catalog", "product", "list", "--limit", "1", "-o", "json"},
			wantOut: []string{`"products": [`, `"name": "orders"`},
			checkReq: func(t *testing.T, req any) {
				if got := req.(*catalogv1.ListDataProductsRequest).GetPageSize(); got != 1 {
					t.Errorf("page size = %d, want 1", got)
				}
			},
		},
		{
			name:    "product get shows ports",
			args:    []string{"catalog", "product", "get", "sales/orders"},
			wantOut: []string{"Product:        sales/orders", "PORT  MAJOR  LATEST  STATUS  SUBJECT", "v1    1      1.0.0   active  data.sales.orders.v1"},
		},
		{
			name:    "product get yaml",
			args:    []string{"catalog", "product", "get", "sales/orders", "-o", "YAML"},
			wantOut: []string{"domain: sales\nname: orders\n", "outputPorts:\n  - name: v1\n"},
		},
		{
			name:     "not found",
			args:     []string{"catalog", "product", "get", "sales/nope"},
			wantCode: 1,
			wantErr:  []string{"Error: NotFound: product sales/nope not found"},
		},
		{
			name:     "bad request details",
			args:     []string{"catalog", "product", "create", "sales/returns"},
			wantCode: 1,
			wantErr:  []string{"Error: InvalidArgument: invalid data product\n  - product.owner: is required\n"},
		},
		{
			name: "product update sends only the set flags in the mask",
			args: []string{"catalog", "product", "update", "sales/orders", "--title", "All orders", "--compatibility", "Full_Transitive"},
			checkReq: func(t *testing.T, req any) {
				r := req.(*catalogv1.UpdateDataProductRequest)
				if !slices.Equal(r.GetUpdateMask(), []string{"title", "compatibility"}) {
					t.Errorf("update_mask = %v", r.GetUpdateMask())
				}
				if r.GetProduct().GetCompatibility() != catalogv1.CompatibilityMode_COMPATIBILITY_MODE_FULL_TRANSITIVE || r.GetProduct().GetName() != "orders" {
					t.Errorf("product = %v", r.GetProduct())
				}
			},
		},
		{
			name:    "contract apply from a file",
			args:    []string{"catalog", "contract", "apply", "-f", good, "--product", "sales/orders"},
			wantOut: []string{"Published sales/orders 1.1.0 (active)", "v1    1      1.0.0"},
			wantErr: []string{"Warning: servers is not modeled by the catalog and was not stored"},
			checkReq: func(t *testing.T, req any) {
				r := req.(*catalogv1.PublishContractRequest)
				if r.GetDomain() != "sales" || r.GetProduct() != "orders" || !strings.HasPrefix(r.GetOdcsYaml(), "apiVersion: v3.1.0") {
					t.Errorf("request = %v", r)
				}
			},
		},
		{
			name:     "contract apply from stdin, incompatible",
			args:     []string{"catalog", "contract", "apply", "-f", "-"},
			stdin:    "kind: DataContract # breaking\n",
			wantCode: 1,
			wantErr: []string{
				"Error: FailedPrecondition: contract 1.1.0 of sales/orders is not backward compatible\n" +
					"  - orders.customer.email  field_removed  string → (none)              against 1.0.0\n" +
					"  - orders.status          enum_narrowed  new,paid,shipped → new,paid  against 1.0.0\n",
			},
		},
		{
			name:    "contract check compatible",
			args:    []string{"catalog", "contract", "check", "-f", good},
			wantOut: []string{"compatible with 1.0.0 under backward\n"},
		},
		{
			name:     "contract check incompatible exits 1",
			args:     []string{"catalog", "contract", "check", "-f", "-"},
			stdin:    "breaking",
			wantCode: 1,
			wantOut:  []string{"not compatible (2 violations) with 1.0.0 under backward", "FIELD", "orders.status          enum_narrowed  new,paid,shipped → new,paid  1.0.0"},
		},
		{
			name:     "unimplemented",
			args:     []string{"catalog", "domain", "list"},
			wantCode: 1,
			wantErr:  []string{"Error: Unimplemented: method ListDomains not implemented"},
		},
		{name: "bad enum flag", args: []string{"catalog", "product", "list", "--status", "gone"}, wantCode: 2, wantNoCall: true,
			wantErr: []string{`invalid argument "gone" for "--status" flag: invalid value "gone": allowed values are draft, active, deprecated, retired`, "Run 'factoryctl catalog product list --help' for usage."}},
		{name: "bad product ref", args: []string{"catalog", "product", "get", "orders"}, wantCode: 2, wantNoCall: true,
			wantErr: []string{`invalid product "orders": want DOMAIN/NAME, e.g. sales/orders`}},
		{name: "bad status arg", args: []string{"catalog", "contract", "status", "sales/orders", "1.0.0", "live"}, wantCode: 2, wantNoCall: true,
			wantErr: []string{`STATUS: invalid value "live": allowed values are draft, active, deprecated, retired`}},
		{name: "bad output", args: []string{"catalog", "product", "list", "-o", "xml"}, wantCode: 2, wantNoCall: true,
			wantErr: []string{`invalid output format "xml"`}},
		{name: "update without flags", args: []string{"catalog", "product", "update", "sales/orders"}, wantCode: 2, wantNoCall: true,
			wantErr: []string{"nothing to update"}},
		{name: "missing -f", args: []string{"catalog", "contract", "check"}, wantCode: 2, wantNoCall: true,
			wantErr: []string{`required flag(s) "file" not set`}},
		{name: "wrong arg count", args: []string{"catalog", "product", "get"}, wantCode: 2, wantNoCall: true,
			wantErr: []string{"takes 1 argument(s): DOMAIN/NAME; got 0"}},
		{name: "unknown subcommand", args: []string{"catalog", "prodcut"}, wantCode: 2, wantNoCall: true,
			wantErr: []string{`unknown command "prodcut" for "factoryctl catalog"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.mu.Lock()
			before := len(fake.requests)
			fake.mu.Unlock()
			r := runCLI(t, env, tt.stdin, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			for _, s := range tt.wantOut {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
				}
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			fake.mu.Lock()
			calls := len(fake.requests) - before
			fake.mu.Unlock()
			if tt.wantNoCall && calls != 0 {
				t.Errorf("made %d calls for a usage error", calls)
			}
			if tt.checkReq != nil {
				tt.checkReq(t, fake.last())
			}
		})
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, a := range fake.auth {
		if a != "Bearer test-token" {
			t.Fatalf("authorization = %q, want the bearer token", a)
		}
	}
}

func TestDevMeshToken(t *testing.T) {
	fake, addr := startFake(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin.token"), []byte("dev-admin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, map[string]string{"FACTORY_DATA_DIR": dir}, "", "--addr", addr, "catalog", "product", "get", "sales/orders")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if got := fake.auth[len(fake.auth)-1]; got != "Bearer dev-admin" {
		t.Errorf("authorization = %q, want the dev mesh token", got)
	}
}

func TestUnreachable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	r := runCLI(t, map[string]string{"FACTORY_TOKEN": "x"}, "", "--addr", addr, "catalog", "product", "list")
	want := "Error: the mesh at " + addr + " is not reachable"
	if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "`make run` or `factoryctl dev`, or pass --addr") {
		t.Errorf("exit %d, stderr:\n%s\nwant %q", r.code, r.stderr, want)
	}
}

func TestNoToken(t *testing.T) {
	r := runCLI(t, map[string]string{"FACTORY_DATA_DIR": t.TempDir()}, "", "catalog", "product", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "start the dev mesh (`make run` or `factoryctl dev`)") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	root := newRootCmd(func(string) string { return "" })
	var check func(*cobra.Command)
	check = func(c *cobra.Command) {
		if c.Short == "" || c.Example == "" {
			t.Errorf("%s: Short or Example missing", c.CommandPath())
		}
		if strings.Contains(c.Short, "\n") {
			t.Errorf("%s: Short is not one line", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			if sub.Name() != "help" && sub.Name() != "completion" {
				check(sub)
			}
		}
	}
	check(root)
}

func TestVersionString(t *testing.T) {
	tests := []struct {
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}}, true, "factoryctl v0.3.0 go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"},
		}}, true, "factoryctl (devel) (0123456789ab-dirty) go1.26.8"},
		{nil, false, "factoryctl (unknown version)"},
	}
	for _, tt := range tests {
		if got := versionString(tt.bi, tt.ok); got != tt.want {
			t.Errorf("versionString() = %q, want %q", got, tt.want)
		}
	}
	r := runCLI(t, nil, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "factoryctl ") {
		t.Errorf("version: exit %d, %q", r.code, r.stdout)
	}
}
