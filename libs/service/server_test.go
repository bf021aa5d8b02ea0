package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/aifactory/aifactory/libs/auth"
)

// testService is a hand-written gRPC service so the tests need no protos.
type testService struct {
	entered chan struct{} // Block signals here when it starts
	release chan struct{} // and returns when this is closed
}

const testServiceName = "aifactory.test.v1.Test"

func method(name string) string { return "/" + testServiceName + "/" + name }

func unary(name string, fn func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error)) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(_ any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, req any) (any, error) { return fn(ctx, req.(*wrapperspb.StringValue)) }
			if icpt == nil {
				return h(ctx, in)
			}
			return icpt(ctx, in, &grpc.UnaryServerInfo{FullMethod: method(name)}, h)
		},
	}
}

func (ts *testService) desc() *grpc.ServiceDesc {
	return &grpc.ServiceDesc{
		ServiceName: testServiceName,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			unary("Whoami", func(ctx context.Context, _ *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				p, ok := auth.FromContext(ctx)
				if !ok {
					return nil, status.Error(codes.Internal, "no principal in context")
				}
				return wrapperspb.String(p.Name + " " + strings.Join(p.Domains, ",")), nil
			}),
			unary("Block", func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				ts.entered <- struct{}{}
				<-ts.release
				return in, nil
			}),
			unary("Panic", func(context.Context, *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				panic("boom")
			}),
			unary("Validate", func(_ context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				var v Violations
				if in.GetValue() == "" {
					v.Add("product.name", "must not be empty")
				}
				v.Addf("product.owner", "unknown domain %q", "nowhere")
				return nil, v.Err()
			}),
		},
	}
}

var testSecret = bytes.Repeat([]byte("s"), auth.MinSecretLen)

type harness struct {
	srv     *Server
	svc     *testService
	signer  *auth.Signer
	addr    string // gRPC
	httpURL string
	cancel  context.CancelFunc
	done    chan error // Serve's result
	logs    *syncBuffer
}

func start(t *testing.T, mutate func(*Options)) *harness {
	t.Helper()
	signer, err := auth.NewSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	opts := Options{
		Name:            "test",
		Logger:          slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Authenticator:   signer,
		ShutdownTimeout: 5 * time.Second,
	}
	if mutate != nil {
		mutate(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	svc := &testService{entered: make(chan struct{}, 1), release: make(chan struct{})}
	srv.GRPC.RegisterService(svc.desc(), svc)
	grpcLis, err := Listen("127.0.0.1:0", "test grpc")
	if err != nil {
		t.Fatal(err)
	}
	httpLis, err := Listen("127.0.0.1:0", "test http")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{srv: srv, svc: svc, signer: signer, addr: grpcLis.Addr().String(),
		httpURL: "http://" + httpLis.Addr().String(), cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { h.done <- srv.Serve(ctx, grpcLis, httpLis) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-svc.release:
		default:
			close(svc.release)
		}
		if err := <-h.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return h
}

func (h *harness) token(t *testing.T, p auth.Principal) string {
	t.Helper()
	tok, err := h.signer.Issue(p, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (h *harness) dial(t *testing.T, tokenSource func() string) *grpc.ClientConn {
	t.Helper()
	cc, err := Dial(h.addr, tokenSource)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func (h *harness) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(h.httpURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func call(ctx context.Context, cc *grpc.ClientConn, name, in string) (string, error) {
	out := new(wrapperspb.StringValue)
	err := cc.Invoke(ctx, method(name), wrapperspb.String(in), out)
	return out.GetValue(), err
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestAuthInterceptor(t *testing.T) {
	h := start(t, nil)
	good := h.token(t, auth.Principal{Name: "alice", Domains: []string{"catalog"}})
	otherSigner, _ := auth.NewSigner(bytes.Repeat([]byte("o"), auth.MinSecretLen))
	forged, _ := otherSigner.Issue(auth.Principal{Name: "mallory"}, time.Hour)
	plain := h.dial(t, nil)

	tests := []struct {
		name     string
		header   string // raw authorization metadata; "" sends none
		method   string
		wantCode codes.Code
		wantMsg  string
	}{
		{"missing token", "", "Whoami", codes.Unauthenticated, "missing bearer token"},
		{"wrong scheme", "Basic " + good, "Whoami", codes.Unauthenticated, "malformed authorization"},
		{"empty bearer", "Bearer ", "Whoami", codes.Unauthenticated, "malformed authorization"},
		{"garbage token", "Bearer garbage", "Whoami", codes.Unauthenticated, "invalid bearer token: malformed token"},
		{"wrong secret", "Bearer " + forged, "Whoami", codes.Unauthenticated, "invalid token signature"},
		{"good token", "Bearer " + good, "Whoami", codes.OK, ""},
		{"lowercase scheme", "bearer " + good, "Whoami", codes.OK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testCtx(t)
			if tt.header != "" {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", tt.header)
			}
			got, err := call(ctx, plain, tt.method, "")
			st := status.Convert(err)
			if st.Code() != tt.wantCode || !strings.Contains(st.Message(), tt.wantMsg) {
				t.Fatalf("got %v %q, want %v containing %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
			}
			if tt.wantCode == codes.OK && got != "alice catalog" {
				t.Errorf("handler saw principal %q, want %q", got, "alice catalog")
			}
		})
	}

	t.Run("Dial sends the token", func(t *testing.T) {
		got, err := call(testCtx(t), h.dial(t, StaticToken(good)), "Whoami", "")
		if err != nil || got != "alice catalog" {
			t.Fatalf("Whoami = %q, %v", got, err)
		}
		if _, err := call(testCtx(t), h.dial(t, StaticToken("")), "Whoami", ""); status.Code(err) != codes.Unauthenticated {
			t.Fatalf("empty token source: %v, want Unauthenticated", err)
		}
	})

	t.Run("health and reflection are exempt", func(t *testing.T) {
		resp, err := healthpb.NewHealthClient(plain).Check(testCtx(t), &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health Check = %v, %v", resp, err)
		}
		services, err := listServices(testCtx(t), plain)
		if err != nil {
			t.Fatalf("reflection: %v", err)
		}
		if !strings.Contains(services, testServiceName) {
			t.Errorf("reflection lists %s, want %s among them", services, testServiceName)
		}
	})
}

// listServices asks server reflection (a bidi stream) for the service names.
func listServices(ctx context.Context, cc *grpc.ClientConn) (string, error) {
	stream, err := reflectionpb.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		return "", err
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil && !errors.Is(err, io.EOF) { // on EOF, Recv reports the status
		return "", err
	}
	resp, err := stream.Recv()
	if err != nil {
		return "", err
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	return strings.Join(names, ","), stream.CloseSend()
}

func TestPublicMethodsConfigurable(t *testing.T) {
	h := start(t, func(o *Options) { o.PublicMethods = []string{method("Whoami")} })
	plain := h.dial(t, nil)
	if _, err := healthpb.NewHealthClient(plain).Check(testCtx(t), &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("health without token: %v, want Unauthenticated", err)
	}
	if _, err := listServices(testCtx(t), plain); status.Code(err) != codes.Unauthenticated {
		t.Errorf("reflection stream without token: %v, want Unauthenticated", err)
	}
	// A public method runs without a principal: the handler says so.
	if _, err := call(testCtx(t), plain, "Whoami", ""); status.Code(err) != codes.Internal {
		t.Errorf("public Whoami: %v, want the handler's Internal (no principal)", err)
	}
	if _, err := call(testCtx(t), plain, "Validate", ""); status.Code(err) != codes.Unauthenticated {
		t.Errorf("non-public Validate: %v, want Unauthenticated", err)
	}
}

func TestPanicBecomesInternal(t *testing.T) {
	h := start(t, nil)
	cc := h.dial(t, StaticToken(h.token(t, auth.Principal{Name: "alice"})))
	_, err := call(testCtx(t), cc, "Panic", "")
	if st := status.Convert(err); st.Code() != codes.Internal || strings.Contains(st.Message(), "boom") {
		t.Fatalf("Panic = %v, want Internal without the panic value", err)
	}
	if !strings.Contains(h.logs.String(), "boom") {
		t.Errorf("panic not logged; logs:\n%s", h.logs)
	}
	if _, err := call(testCtx(t), cc, "Whoami", ""); err != nil {
		t.Fatalf("server unusable after a panic: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	h := start(t, nil)
	cc := h.dial(t, StaticToken(h.token(t, auth.Principal{Name: "alice"})))
	for range 3 {
		if _, err := call(testCtx(t), cc, "Whoami", ""); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = call(testCtx(t), h.dial(t, nil), "Whoami", "")

	code, body := h.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`aifactory_grpc_requests_total{code="OK",method="Whoami",service="aifactory.test.v1.Test"} 3`,
		`aifactory_grpc_requests_total{code="Unauthenticated",method="Whoami",service="aifactory.test.v1.Test"} 1`,
		`aifactory_grpc_request_duration_seconds_count{method="Whoami",service="aifactory.test.v1.Test"} 4`,
		"go_goroutines ",
		"process_",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if !strings.Contains(h.logs.String(), "method=/aifactory.test.v1.Test/Whoami code=OK") {
		t.Errorf("no debug request log; logs:\n%s", h.logs)
	}
}

func TestSharedRegistry(t *testing.T) {
	a := start(t, nil)
	b := start(t, func(o *Options) { o.Registry = a.srv.Registry })
	if b.srv.requests != a.srv.requests {
		t.Error("second server on a shared registry did not reuse the request counter")
	}
}

func TestNewRequiresNameAndAuthenticator(t *testing.T) {
	signer, _ := auth.NewSigner(testSecret)
	for _, o := range []Options{{Authenticator: signer}, {Name: "x"}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v): want error", o)
		}
	}
}

func TestHealthzFollowsHealth(t *testing.T) {
	h := start(t, nil)
	if code, body := h.get(t, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	h.srv.Health.SetServingStatus(testServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	if code, body := h.get(t, "/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, testServiceName) {
		t.Fatalf("/healthz with a service down = %d %q", code, body)
	}
	h.srv.SetServing(testServiceName)
	if code, _ := h.get(t, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz after recovery = %d", code)
	}
}

func TestGracefulShutdownDrains(t *testing.T) {
	h := start(t, nil)
	cc := h.dial(t, StaticToken(h.token(t, auth.Principal{Name: "alice"})))
	result := make(chan error, 1)
	go func() {
		got, err := call(context.Background(), cc, "Block", "drained")
		if err == nil && got != "drained" {
			err = fmt.Errorf("got %q", got)
		}
		result <- err
	}()
	<-h.svc.entered
	h.cancel()

	// While the call is in flight the HTTP side is still up and says 503.
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := h.get(t, "/healthz")
		if code == http.StatusServiceUnavailable {
			if !strings.Contains(body, "shutting down") {
				t.Errorf("/healthz body %q", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz still %d after shutdown started", code)
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-h.done:
		t.Fatalf("Serve returned %v before the in-flight call finished", err)
	default:
	}
	close(h.svc.release)
	if err := <-result; err != nil {
		t.Fatalf("in-flight call was not drained: %v", err)
	}
	if err := <-h.done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	h.done <- nil // for Cleanup
	if _, err := call(testCtx(t), cc, "Whoami", ""); status.Code(err) != codes.Unavailable {
		t.Errorf("call after shutdown: %v, want Unavailable", err)
	}
}

func TestShutdownTimeoutStopsHard(t *testing.T) {
	h := start(t, func(o *Options) { o.ShutdownTimeout = 50 * time.Millisecond })
	cc := h.dial(t, StaticToken(h.token(t, auth.Principal{Name: "alice"})))
	result := make(chan error, 1)
	go func() {
		_, err := call(context.Background(), cc, "Block", "")
		result <- err
	}()
	<-h.svc.entered
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
		h.done <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not give up on a stuck call")
	}
	if err := <-result; status.Code(err) != codes.Unavailable {
		t.Errorf("cut-off call: %v, want Unavailable", err)
	}
	close(h.svc.release)
}

func TestServeReturnsListenerFailure(t *testing.T) {
	signer, _ := auth.NewSigner(testSecret)
	srv, err := New(Options{Name: "test", Authenticator: signer})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lis.Close() // Serve's Accept fails at once
	err = srv.Serve(context.Background(), lis, nil)
	if err == nil || !strings.Contains(err.Error(), "serve gRPC") {
		t.Fatalf("Serve on a closed listener = %v, want a serve gRPC error", err)
	}
}

func TestListenNamesSetting(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()

	t.Setenv(EnvGRPCAddr, addr)
	var c Config
	c.RegisterFlags(flagSet(t))
	_, err = c.ListenGRPC()
	want := "listen " + addr + ": address already in use; set FACTORY_GRPC_ADDR (or --grpc-addr) to a free address"
	if err == nil || err.Error() != want {
		t.Fatalf("ListenGRPC on a taken port:\n got  %v\n want %s", err, want)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("error does not wrap EADDRINUSE: %v", err)
	}
	if _, err := Listen("not-an-address", "FACTORY_HTTP_ADDR"); err == nil || !strings.Contains(err.Error(), "FACTORY_HTTP_ADDR") {
		t.Errorf("bad address: %v, want an error naming the setting", err)
	}
}

func TestViolationsOverTheWire(t *testing.T) {
	h := start(t, nil)
	cc := h.dial(t, StaticToken(h.token(t, auth.Principal{Name: "alice"})))
	_, err := call(testCtx(t), cc, "Validate", "")
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("Validate: %v, want InvalidArgument", err)
	}
	for _, want := range []string{"product.name: must not be empty", `product.owner: unknown domain "nowhere"`} {
		if !strings.Contains(st.Message(), want) {
			t.Errorf("message %q lacks %q", st.Message(), want)
		}
	}
	got := BadRequestFromError(fmt.Errorf("create product: %w", err))
	if len(got) != 2 || got[0].GetField() != "product.name" || got[1].GetField() != "product.owner" {
		t.Fatalf("BadRequestFromError = %v", got)
	}
}

func TestStatusHelpers(t *testing.T) {
	var empty Violations
	if err := empty.Err(); err != nil || empty.Len() != 0 {
		t.Fatalf("empty Violations.Err() = %v", err)
	}
	pre := FailedPrecondition("contract cannot be published", []*errdetails.PreconditionFailure_Violation{
		{Type: "CONTRACT_BREAKING", Subject: "field price", Description: "type changed from decimal to string"},
	})
	tests := []struct {
		name     string
		err      error
		code     codes.Code
		msg      string
		resource string
	}{
		{"failed precondition", pre, codes.FailedPrecondition, "contract cannot be published", ""},
		{"failed precondition without details", FailedPrecondition("busy", nil), codes.FailedPrecondition, "busy", ""},
		{"not found", NotFound("data product", "catalog.items"), codes.NotFound, `data product "catalog.items" not found`, "catalog.items"},
		{"already exists", AlreadyExists("domain", "sales"), codes.AlreadyExists, `domain "sales" already exists`, "sales"},
		{"permission denied", PermissionDenied("alice is not a member of sales"), codes.PermissionDenied, "not a member", ""},
		{"unavailable", Unavailable("catalog unreachable", errors.New("connection refused")), codes.Unavailable, "catalog unreachable: connection refused", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := status.Convert(tt.err)
			if st.Code() != tt.code || !strings.Contains(st.Message(), tt.msg) {
				t.Fatalf("got %v %q, want %v containing %q", st.Code(), st.Message(), tt.code, tt.msg)
			}
			if ri := ResourceFromError(tt.err); ri.GetResourceName() != tt.resource {
				t.Errorf("ResourceFromError = %v, want name %q", ri, tt.resource)
			}
		})
	}
	v := PreconditionViolations(fmt.Errorf("publish: %w", pre))
	if len(v) != 1 || v[0].GetType() != "CONTRACT_BREAKING" {
		t.Errorf("PreconditionViolations = %v", v)
	}
	if BadRequestFromError(pre) != nil || PreconditionViolations(errors.New("plain")) != nil {
		t.Error("details read from errors that carry none")
	}
}
