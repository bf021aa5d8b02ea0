package bus

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamSpec declares a JetStream stream. Streams are declared in code and
// created or updated at start-up with Bus.EnsureStreams. Retention is always
// "limits": messages are kept until MaxAge or MaxBytes removes the oldest.
type StreamSpec struct {
	// Name is the stream name, e.g. "CATALOG".
	Name string
	// Subjects the stream captures, e.g. "catalog.>".
	Subjects []string
	// Description is shown by `nats stream info`.
	Description string
	// MaxAge is how long a message is kept; 0 keeps it until MaxBytes
	// evicts it (or forever).
	MaxAge time.Duration
	// MaxBytes bounds the stream's size; 0 is unlimited.
	MaxBytes int64
	// MaxMsgSize bounds one message; 0 uses the server's max_payload.
	MaxMsgSize int32
	// Duplicates is the Nats-Msg-Id deduplication window (0 = 2 minutes, or
	// MaxAge when that is shorter; the server requires Duplicates <= MaxAge).
	Duplicates time.Duration
	// Storage is file (the zero value) or memory.
	Storage jetstream.StorageType
	// Replicas is the number of copies in a cluster (0 = 1).
	Replicas int
}

// DefaultDuplicates is the deduplication window used when a StreamSpec
// leaves Duplicates at zero (the server's own default).
const DefaultDuplicates = 2 * time.Minute

const day = 24 * time.Hour

// The platform's standard streams. Every one uses file storage, one replica
// (overlays raise Replicas for clustered deployments) and a 2-minute
// deduplication window; MaxAge is chosen per stream: the catalog and the
// registry are kept forever because they are the record of what was
// published; operational traffic is kept for a week; lineage, feedback and
// dead letters long enough to investigate.
var (
	CatalogStream     = std("CATALOG", "catalog.>", "data contracts and products: published, deprecated, retired", 0)
	QuarantineStream  = std("QUARANTINE", "quarantine.>", "records that failed their product's contract", 30*day)
	LineageStream     = std("LINEAGE", "lineage.>", "OpenLineage run events", 90*day)
	TrainingStream    = std("TRAINING", "training.>", "training runs: requested, started, finished", 30*day)
	RegistryStream    = std("REGISTRY", "registry.>", "model registry: versions and stage transitions", 0)
	PredictionsStream = std("PREDICTIONS", "predictions.>", "inference requests and results", 7*day)
	FeedbackStream    = std("FEEDBACK", "feedback.>", "ground truth and user feedback on predictions", 90*day)
	MonitoringStream  = std("MONITORING", "monitoring.>", "drift, quality and SLO signals", 7*day)
	FeaturesStream    = std("FEATURES", "features.>", "feature materialisation events", 7*day)
	DLQStream         = std("DLQ", "dlq.>", "dead letters: messages that failed MaxDeliver times, with the reason", 30*day)
)

// DataRetention is the MaxAge of a domain's DATA_<DOMAIN> stream.
const DataRetention = 7 * 24 * time.Hour

func std(name, subject, desc string, maxAge time.Duration) StreamSpec {
	return StreamSpec{
		Name:        name,
		Subjects:    []string{subject},
		Description: "aifactory: " + desc,
		MaxAge:      maxAge,
		Duplicates:  DefaultDuplicates,
		Storage:     jetstream.FileStorage,
		Replicas:    1,
	}
}

// PlatformStreams returns the standard streams (without per-domain data
// streams), ready for EnsureStreams.
func PlatformStreams() []StreamSpec {
	return []StreamSpec{
		CatalogStream, QuarantineStream, LineageStream, TrainingStream, RegistryStream,
		PredictionsStream, FeedbackStream, MonitoringStream, FeaturesStream, DLQStream,
	}
}

// DataStream returns the stream of one domain's data records: DATA_<DOMAIN>
// (upper case, '-' becomes '_') on data.<domain>.>, so each domain's data can
// be placed, replicated and retained on its own. An invalid domain yields a
// spec that EnsureStreams rejects.
func DataStream(domain string) StreamSpec {
	name := "DATA_" + strings.ToUpper(strings.ReplaceAll(domain, "-", "_"))
	return std(name, "data."+domain+".>", "data records of domain "+domain, DataRetention)
}

// Validate checks the spec without contacting the server.
func (s StreamSpec) Validate() error {
	if err := validateName("stream", s.Name); err != nil {
		return err
	}
	if len(s.Subjects) == 0 {
		return fmt.Errorf("bus: stream %s: no subjects", s.Name)
	}
	for _, subj := range s.Subjects {
		if err := validateSubject(subj, true); err != nil {
			return fmt.Errorf("bus: stream %s: %w", s.Name, err)
		}
	}
	if s.MaxAge < 0 || s.Duplicates < 0 || s.MaxBytes < 0 || s.MaxMsgSize < 0 || s.Replicas < 0 {
		return fmt.Errorf("bus: stream %s: negative limit", s.Name)
	}
	if s.MaxAge > 0 && s.Duplicates > s.MaxAge {
		return fmt.Errorf("bus: stream %s: Duplicates %s exceeds MaxAge %s", s.Name, s.Duplicates, s.MaxAge)
	}
	return nil
}

func (s StreamSpec) config() jetstream.StreamConfig {
	cfg := jetstream.StreamConfig{
		Name:        s.Name,
		Description: s.Description,
		Subjects:    append([]string(nil), s.Subjects...),
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      s.MaxAge,
		MaxBytes:    -1,
		MaxMsgs:     -1,
		MaxMsgSize:  s.MaxMsgSize,
		Duplicates:  s.Duplicates,
		Storage:     s.Storage,
		Replicas:    s.Replicas,
	}
	if s.MaxBytes > 0 {
		cfg.MaxBytes = s.MaxBytes
	}
	if cfg.Duplicates == 0 {
		cfg.Duplicates = DefaultDuplicates
		if s.MaxAge > 0 && s.MaxAge < cfg.Duplicates {
			cfg.Duplicates = s.MaxAge
		}
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	return cfg
}

// EnsureStreams creates each stream, or updates it to match its spec when it
// exists. It is idempotent and meant to run at every start-up. All specs are
// validated before any is applied; the first server error stops the loop.
func (b *Bus) EnsureStreams(ctx context.Context, specs ...StreamSpec) error {
	for _, s := range specs {
		if err := s.Validate(); err != nil {
			return err
		}
	}
	for _, s := range specs {
		if _, err := b.js.CreateOrUpdateStream(ctx, s.config()); err != nil {
			return fmt.Errorf("bus: ensure stream %s (%s): %w", s.Name, strings.Join(s.Subjects, ","), err)
		}
		b.log.Debug("stream ensured", "stream", s.Name, "subjects", s.Subjects)
	}
	return nil
}
