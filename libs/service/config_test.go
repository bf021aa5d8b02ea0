package service

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
)

func TestRegisterFlagsEnvAndOverrides(t *testing.T) {
	t.Setenv(EnvGRPCAddr, "127.0.0.1:9000")
	t.Setenv(EnvLogLevel, "debug")
	t.Setenv(EnvNATSURL, "nats://env:4222")
	t.Setenv(EnvHTTPAddr, "")
	t.Setenv(EnvAuthSecret, "")

	tests := []struct {
		name string
		args []string
		want Config
	}{
		{"env and defaults", nil, Config{
			GRPCAddr: "127.0.0.1:9000", HTTPAddr: DefaultHTTPAddr, NATSURL: "nats://env:4222",
			DataDir: DefaultDataDir, LogLevel: "debug", LogFormat: DefaultLogFormat,
		}},
		{"flags override env", []string{"--grpc-addr=127.0.0.1:9100", "--nats-url=nats://flag:4222", "--log-format=json", "--data-dir=/tmp/f"}, Config{
			GRPCAddr: "127.0.0.1:9100", HTTPAddr: DefaultHTTPAddr, NATSURL: "nats://flag:4222",
			DataDir: "/tmp/f", LogLevel: "debug", LogFormat: "json",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			fs := flagSet(t)
			c.RegisterFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if c != tt.want {
				t.Errorf("got  %+v\nwant %+v", c, tt.want)
			}
		})
	}
}

func TestEnvOr(t *testing.T) {
	t.Setenv("FACTORY_CATALOG_ADDR", "")
	if got := EnvOr("FACTORY_CATALOG_ADDR", "127.0.0.1:7100"); got != "127.0.0.1:7100" {
		t.Errorf("unset: %q", got)
	}
	t.Setenv("FACTORY_CATALOG_ADDR", "catalog:7100")
	if got := EnvOr("FACTORY_CATALOG_ADDR", "127.0.0.1:7100"); got != "catalog:7100" {
		t.Errorf("set: %q", got)
	}
}

func TestValidate(t *testing.T) {
	valid := Config{Name: "catalog", GRPCAddr: DefaultGRPCAddr, HTTPAddr: DefaultHTTPAddr, DataDir: DefaultDataDir,
		LogLevel: "info", LogFormat: "text", DatabaseURL: "postgresql://u:hunter2@db:26257/factory"}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; none: valid
	}{
		{"valid", func(*Config) {}, nil},
		{"valid secret", func(c *Config) { c.AuthSecret = hex.EncodeToString(make([]byte, 32)) }, nil},
		{"no name", func(c *Config) { c.Name = "" }, []string{"service name"}},
		{"grpc addr", func(c *Config) { c.GRPCAddr = "7100" }, []string{"FACTORY_GRPC_ADDR (or --grpc-addr)", "host:port"}},
		{"http addr", func(c *Config) { c.HTTPAddr = "" }, []string{"FACTORY_HTTP_ADDR"}},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, []string{"FACTORY_LOG_LEVEL", "debug, info, warn or error"}},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, []string{"FACTORY_LOG_FORMAT", "text or json"}},
		{"nats url", func(c *Config) { c.NATSURL = "localhost" }, []string{"FACTORY_NATS_URL", "scheme"}},
		{"data dir", func(c *Config) { c.DataDir = " " }, []string{"FACTORY_DATA_DIR"}},
		{"secret", func(c *Config) { c.AuthSecret = "abcd" }, []string{"FACTORY_AUTH_SECRET", "need at least 32"}},
		{"all at once", func(c *Config) { c.GRPCAddr, c.LogFormat = "x", "y" }, []string{"FACTORY_GRPC_ADDR", "FACTORY_LOG_FORMAT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate: want error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks a password: %v", err)
			}
		})
	}
}

func TestLoadAuthSecret(t *testing.T) {
	c := Config{DataDir: t.TempDir()}
	first, err := c.LoadAuthSecret()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, SecretFile)); err != nil {
		t.Fatalf("secret file not created: %v", err)
	}
	again, err := c.LoadAuthSecret()
	if err != nil || !bytes.Equal(first, again) {
		t.Fatalf("secret changed across loads: %x vs %x (%v)", first, again, err)
	}
	c.AuthSecret = hex.EncodeToString(bytes.Repeat([]byte{7}, 32))
	env, err := c.LoadAuthSecret()
	if err != nil || !bytes.Equal(env, bytes.Repeat([]byte{7}, 32)) {
		t.Fatalf("AuthSecret not preferred: %x, %v", env, err)
	}
}

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	log, err := NewLogger("json", "warn", &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "k", 1)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["msg"] != "shown" {
		t.Fatalf("want one JSON record for the warning, got %q (%v)", buf.String(), err)
	}
	for _, tt := range []struct{ format, level string }{{"xml", "info"}, {"text", "loud"}} {
		if _, err := NewLogger(tt.format, tt.level, &buf); err == nil {
			t.Errorf("NewLogger(%q, %q): want error", tt.format, tt.level)
		}
	}
	for in, want := range map[string]slog.Level{"DEBUG": slog.LevelDebug, "warning": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
}

func TestSetupTracingWithoutEndpoint(t *testing.T) {
	t.Setenv(EnvOTLPEndpoint, "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	shutdown, err := SetupTracing(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Join(otel.GetTextMapPropagator().Fields(), ",")
	if !strings.Contains(fields, "traceparent") || !strings.Contains(fields, "baggage") {
		t.Errorf("propagator fields %q, want traceparent and baggage", fields)
	}
	ctx, span := otel.Tracer("test").Start(context.Background(), "op")
	if !span.SpanContext().IsValid() {
		t.Error("spans are not recorded without an exporter; context would not propagate")
	}
	span.End()
	if err := shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSetupTracingWithEndpoint(t *testing.T) {
	t.Setenv(EnvOTLPEndpoint, "http://127.0.0.1:1") // nothing listens; export is lazy
	shutdown, err := SetupTracing(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = shutdown(ctx) // flushing to a dead endpoint may fail; it must not hang
}
