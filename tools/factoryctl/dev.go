package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/aifactory/aifactory/libs/service"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/client"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/devserver"
)

// newDevCmd is `factoryctl dev`: the whole mesh in one process.
func newDevCmd() *cobra.Command {
	var (
		opts     devserver.StartOptions
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole mesh in one process: embedded NATS, SQLite and every service",
		Long: `dev runs the embedded mesh for development: an embedded NATS server with
JetStream, SQLite databases and every service built so far. All gRPC services
share one address, /metrics and /healthz another. State lives in the data
directory and survives restarts. Stop it with Ctrl-C.`,
		Example: `  factoryctl dev
  FACTORY_DATA_DIR=/tmp/factory FACTORY_GRPC_ADDR=127.0.0.1:7300 factoryctl dev`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := service.NewLogger("text", logLevel, cmd.ErrOrStderr())
			if err != nil {
				return usageErrorf("--log-level: %v", err)
			}
			opts.Logger = log
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := devserver.Start(ctx, opts)
			if err != nil {
				return err
			}
			printBanner(cmd, srv)
			select {
			case <-ctx.Done():
			case err := <-waitErr(srv):
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "stopping the mesh…")
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return srv.Stop(sctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.DataDir, "data-dir", service.EnvOr(client.DataDirVar, devserver.DefaultDataDir), "directory of the mesh's state ($"+client.DataDirVar+")")
	f.StringVar(&opts.GRPCAddr, "grpc-addr", service.EnvOr(service.EnvGRPCAddr, devserver.DefaultGRPCAddr), "gRPC address of every service ($"+service.EnvGRPCAddr+")")
	f.StringVar(&opts.HTTPAddr, "http-addr", service.EnvOr(service.EnvHTTPAddr, devserver.DefaultHTTPAddr), "HTTP address for /metrics and /healthz ($"+service.EnvHTTPAddr+")")
	f.StringVar(&opts.NATSListen, "nats-listen", service.EnvOr("FACTORY_NATS_LISTEN", devserver.DefaultNATSListen), "address of the embedded NATS server ($FACTORY_NATS_LISTEN)")
	f.StringVar(&opts.RedisURL, "redis-url", service.EnvOr(service.EnvRedisURL, ""), "Redis for the feature store's online store; empty keeps it in process ($"+service.EnvRedisURL+")")
	f.StringVar(&logLevel, "log-level", service.EnvOr(service.EnvLogLevel, "info"), "log level: debug, info, warn or error")
	return cmd
}

func waitErr(srv *devserver.Server) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- srv.Wait() }()
	return ch
}

func printBanner(cmd *cobra.Command, srv *devserver.Server) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, `aifactory dev mesh is up
  gRPC        %s   (%d service(s): %v, plus grpc.health.v1.Health and reflection)
  HTTP        http://%s/metrics  http://%s/healthz
  NATS        %s   (JetStream; subscribe with any NATS client)
  data        %s
  admin token %s   (factoryctl uses it for loopback addresses)

Try:
  factoryctl catalog domain create sales --member "$USER"
  grpcurl -plaintext %s list

Ctrl-C stops the mesh; its state stays in the data directory.
`, srv.GRPCAddr, len(srv.Services), srv.Services, srv.HTTPAddr, srv.HTTPAddr, srv.NATSURL, srv.DataDir, srv.AdminTokenPath, srv.GRPCAddr)
}
