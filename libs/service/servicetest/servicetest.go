// Package servicetest serves a service.Server on random loopback ports for
// the duration of a test.
package servicetest

import (
	"context"
	"net"
	"testing"

	"github.com/aifactory/aifactory/libs/service"
)

// Serve serves srv on 127.0.0.1 (gRPC and HTTP on random ports) until t
// ends, and returns the gRPC address.
func Serve(t testing.TB, srv *service.Server) string {
	t.Helper()
	grpcLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		grpcLis.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, grpcLis, httpLis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return grpcLis.Addr().String()
}
