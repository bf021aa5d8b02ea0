package bus

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestEnsureStreams(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, b *Bus, _ string) {
		ctx := testCtx(t)
		r := strings.ToUpper(randHex(t))
		spec := StreamSpec{
			Name:        "T" + r + "_ENSURE",
			Subjects:    []string{"t" + strings.ToLower(r) + ".>"},
			Description: "bus test",
			MaxAge:      time.Hour,
			MaxMsgSize:  1 << 20,
		}
		ensureDeleted(t, b, spec.Name)

		for i := range 2 { // idempotent
			if err := b.EnsureStreams(ctx, spec); err != nil {
				t.Fatalf("EnsureStreams #%d: %v", i+1, err)
			}
		}
		info := streamInfo(t, b, spec.Name)
		if info.Config.MaxAge != time.Hour || info.Config.Duplicates != DefaultDuplicates ||
			info.Config.Storage != jetstream.FileStorage || info.Config.Replicas != 1 ||
			info.Config.MaxMsgSize != 1<<20 || info.Config.Description != "bus test" {
			t.Errorf("stream config = %+v", info.Config)
		}

		spec.MaxAge = 2 * time.Hour // an update
		if err := b.EnsureStreams(ctx, spec); err != nil {
			t.Fatalf("EnsureStreams with new MaxAge: %v", err)
		}
		if got := streamInfo(t, b, spec.Name).Config.MaxAge; got != 2*time.Hour {
			t.Errorf("MaxAge after update = %s; want 2h", got)
		}

		bad := spec
		bad.Subjects = []string{"a..b"}
		if err := b.EnsureStreams(ctx, spec, bad); err == nil {
			t.Error("EnsureStreams with an invalid spec: no error")
		}
	})
}

func streamInfo(t *testing.T, b *Bus, name string) *jetstream.StreamInfo {
	t.Helper()
	ctx := testCtx(t)
	s, err := b.js.Stream(ctx, name)
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream info %s: %v", name, err)
	}
	return info
}
