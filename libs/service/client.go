package service

import (
	"context"
	"fmt"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// HTTP/2 flow-control windows of the platform's servers and clients. Fixed
// windows this large turn off gRPC's bandwidth-delay estimation, whose pings
// and window updates cost a goroutine wake-up on the far side of many small
// calls (measured: the online feature read's p50 on 2 cores), and let a
// stream of large ingestion batches run without waiting for credit.
const (
	StreamWindow = 4 << 20
	ConnWindow   = 16 << 20
)

// Dial returns a client connection to addr that traces every call and sends
// "authorization: Bearer <token>" with the token tokenSource returns at call
// time (nil or an empty token: no header). The connection is lazy, as with
// grpc.NewClient: dial once at start-up and reuse it. Transport is plaintext
// for now; extra options come last and can override it.
func Dial(addr string, tokenSource func() string, extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		grpc.WithInitialWindowSize(StreamWindow),
		grpc.WithInitialConnWindowSize(ConnWindow),
	}
	if tokenSource != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(tokenSource)))
	}
	cc, err := grpc.NewClient(addr, append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return cc, nil
}

// StaticToken returns a token source for a fixed token.
func StaticToken(token string) func() string {
	return func() string { return token }
}

// bearer implements credentials.PerRPCCredentials.
type bearer func() string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	tok := b()
	if tok == "" {
		return nil, nil
	}
	return map[string]string{"authorization": "Bearer " + tok}, nil
}

// RequireTransportSecurity is false until the mesh has TLS.
func (bearer) RequireTransportSecurity() bool { return false }
