package service

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/aifactory/aifactory/libs/auth"
)

// Environment variables read by Config. A service adds its own settings (for
// example FACTORY_CATALOG_ADDR) with EnvOr in the same way:
//
//	fs.StringVar(&catalogAddr, "catalog-addr", service.EnvOr("FACTORY_CATALOG_ADDR", "127.0.0.1:7100"), "catalog gRPC address")
const (
	EnvGRPCAddr    = "FACTORY_GRPC_ADDR"
	EnvHTTPAddr    = "FACTORY_HTTP_ADDR"
	EnvNATSURL     = "FACTORY_NATS_URL"
	EnvDatabaseURL = "FACTORY_DATABASE_URL"
	EnvRedisURL    = "FACTORY_REDIS_URL"
	EnvDataDir     = "FACTORY_DATA_DIR"
	EnvLogLevel    = "FACTORY_LOG_LEVEL"
	EnvLogFormat   = "FACTORY_LOG_FORMAT"
	EnvAuthSecret  = auth.SecretEnv
	// EnvOTLPEndpoint is the standard OpenTelemetry variable; SetupTracing
	// exports spans only when it (or its traces-specific twin) is set.
	EnvOTLPEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT"
)

// Defaults of the dev mesh.
const (
	DefaultGRPCAddr  = "127.0.0.1:7100"
	DefaultHTTPAddr  = "127.0.0.1:7180"
	DefaultDataDir   = "./.factory"
	DefaultLogLevel  = "info"
	DefaultLogFormat = "text"
)

// SecretFile is the name of the signing secret created under DataDir when
// FACTORY_AUTH_SECRET is not set.
const SecretFile = "auth.secret"

// Config holds the settings every service shares. Fill it with RegisterFlags
// and flag parsing, then call Validate.
type Config struct {
	// Name is the service name ("catalog"), used for tracing and logs; set by
	// the program, not by a flag.
	Name        string
	GRPCAddr    string
	HTTPAddr    string
	NATSURL     string // empty: the embedded NATS server
	DatabaseURL string // empty: embedded SQLite under DataDir
	RedisURL    string // empty: the embedded online store
	DataDir     string
	LogLevel    string
	LogFormat   string
	// AuthSecret is the token signing secret, hex or base64. It is read from
	// the environment only: a flag would show it in process listings.
	AuthSecret string
}

// setting describes one flag-backed setting for RegisterFlags and for error
// messages that name both ways of changing it.
type setting struct {
	flag, env string
}

var (
	settingGRPCAddr    = setting{"grpc-addr", EnvGRPCAddr}
	settingHTTPAddr    = setting{"http-addr", EnvHTTPAddr}
	settingNATSURL     = setting{"nats-url", EnvNATSURL}
	settingDatabaseURL = setting{"database-url", EnvDatabaseURL}
	settingRedisURL    = setting{"redis-url", EnvRedisURL}
	settingDataDir     = setting{"data-dir", EnvDataDir}
	settingLogLevel    = setting{"log-level", EnvLogLevel}
	settingLogFormat   = setting{"log-format", EnvLogFormat}
)

func (s setting) String() string {
	if s.flag == "" {
		return s.env
	}
	return s.env + " (or --" + s.flag + ")"
}

// EnvOr returns the value of the environment variable name, or def when it is
// unset or empty.
func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// RegisterFlags defines the shared flags on fs. Each flag's default is taken
// from its environment variable (or the built-in default), so a flag given on
// the command line overrides the environment. AuthSecret is read from the
// environment here.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	str := func(p *string, s setting, def, usage string) {
		fs.StringVar(p, s.flag, EnvOr(s.env, def), usage+" ($"+s.env+")")
	}
	str(&c.GRPCAddr, settingGRPCAddr, DefaultGRPCAddr, "gRPC listen address")
	str(&c.HTTPAddr, settingHTTPAddr, DefaultHTTPAddr, "HTTP listen address for /metrics and /healthz")
	str(&c.NATSURL, settingNATSURL, "", "NATS URL; empty runs an embedded server")
	str(&c.DatabaseURL, settingDatabaseURL, "", "CockroachDB/PostgreSQL URL; empty uses SQLite under the data dir")
	str(&c.RedisURL, settingRedisURL, "", "Redis URL; empty uses the embedded online store")
	str(&c.DataDir, settingDataDir, DefaultDataDir, "directory for embedded state")
	str(&c.LogLevel, settingLogLevel, DefaultLogLevel, "log level: debug, info, warn or error")
	str(&c.LogFormat, settingLogFormat, DefaultLogFormat, "log format: text or json")
	c.AuthSecret = os.Getenv(EnvAuthSecret)
}

// Validate checks every setting and reports all problems at once, each naming
// the setting to change.
func (c *Config) Validate() error {
	var errs []error
	bad := func(s fmt.Stringer, value, problem string) {
		errs = append(errs, fmt.Errorf("%s=%q: %s", s, value, problem))
	}
	if c.Name == "" {
		errs = append(errs, errors.New("service name is empty"))
	}
	for _, a := range []struct {
		s     setting
		value string
	}{{settingGRPCAddr, c.GRPCAddr}, {settingHTTPAddr, c.HTTPAddr}} {
		if _, _, err := net.SplitHostPort(a.value); err != nil {
			bad(a.s, a.value, "want host:port, e.g. 127.0.0.1:7100")
		}
	}
	for _, u := range []struct {
		s     setting
		value string
	}{{settingNATSURL, c.NATSURL}, {settingDatabaseURL, c.DatabaseURL}, {settingRedisURL, c.RedisURL}} {
		if u.value == "" {
			continue
		}
		if p, err := url.Parse(u.value); err != nil || p.Scheme == "" {
			bad(u.s, redact(u.value), "want a URL with a scheme, e.g. nats://, postgresql://, redis://")
		}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad(settingDataDir, c.DataDir, "must not be empty")
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		bad(settingLogLevel, c.LogLevel, "want debug, info, warn or error")
	}
	if f := strings.ToLower(c.LogFormat); f != "text" && f != "json" {
		bad(settingLogFormat, c.LogFormat, "want text or json")
	}
	if c.AuthSecret != "" {
		if _, err := auth.ParseSecret(c.AuthSecret); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvAuthSecret, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	return nil
}

// LoadAuthSecret returns the token signing secret: AuthSecret when set,
// otherwise the secret kept in DataDir (created on first use).
func (c *Config) LoadAuthSecret() ([]byte, error) {
	if c.AuthSecret != "" {
		b, err := auth.ParseSecret(c.AuthSecret)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvAuthSecret, err)
		}
		return b, nil
	}
	return auth.LoadOrCreateSecret(filepath.Join(c.DataDir, SecretFile))
}

// ListenGRPC listens on GRPCAddr; see Listen.
func (c *Config) ListenGRPC() (net.Listener, error) {
	return Listen(c.GRPCAddr, settingGRPCAddr.String())
}

// ListenHTTP listens on HTTPAddr; see Listen.
func (c *Config) ListenHTTP() (net.Listener, error) {
	return Listen(c.HTTPAddr, settingHTTPAddr.String())
}

// redact hides the password of a URL so configuration errors can be logged.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	return u.Redacted()
}
