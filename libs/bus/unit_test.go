package bus

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestSubject(t *testing.T) {
	tests := []struct {
		tokens  []string
		want    string
		wantErr string
	}{
		{tokens: []string{"data", "sales", "orders"}, want: "data.sales.orders"},
		{tokens: []string{"catalog"}, want: "catalog"},
		{tokens: nil, wantErr: "at least one token"},
		{tokens: []string{"data", ""}, wantErr: "empty"},
		{tokens: []string{"data", "a.b"}, wantErr: `"."`},
		{tokens: []string{"data", "*"}, wantErr: `"*"`},
		{tokens: []string{"data", "x>"}, wantErr: `">"`},
		{tokens: []string{"data", "a b"}, wantErr: `" "`},
		{tokens: []string{"data", "a\tb"}, wantErr: "contains"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.tokens, "|"), func(t *testing.T) {
			got, err := Subject(tt.tokens...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Subject(%q) = %q, %v; want error containing %q", tt.tokens, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Subject(%q) = %q, %v; want %q", tt.tokens, got, err, tt.want)
			}
		})
	}
}

func TestValidateSubject(t *testing.T) {
	tests := []struct {
		subject   string
		wildcards bool
		ok        bool
	}{
		{"catalog.>", true, true},
		{"data.*.orders", true, true},
		{"catalog.>", false, false},
		{"a.>.b", true, false},
		{"a..b", true, false},
		{"", true, false},
		{"a.b", false, true},
	}
	for _, tt := range tests {
		err := validateSubject(tt.subject, tt.wildcards)
		if (err == nil) != tt.ok {
			t.Errorf("validateSubject(%q, %v) = %v; want ok=%v", tt.subject, tt.wildcards, err, tt.ok)
		}
	}
}

func TestDataStream(t *testing.T) {
	tests := []struct {
		domain, name, subject string
		valid                 bool
	}{
		{"sales", "DATA_SALES", "data.sales.>", true},
		{"credit-risk", "DATA_CREDIT_RISK", "data.credit-risk.>", true},
		{"a.b", "DATA_A.B", "data.a.b.>", false},
		{"", "DATA_", "data..>", false},
	}
	for _, tt := range tests {
		s := DataStream(tt.domain)
		if s.Name != tt.name || len(s.Subjects) != 1 || s.Subjects[0] != tt.subject {
			t.Errorf("DataStream(%q) = %s %v; want %s [%s]", tt.domain, s.Name, s.Subjects, tt.name, tt.subject)
		}
		if err := s.Validate(); (err == nil) != tt.valid {
			t.Errorf("DataStream(%q).Validate() = %v; want valid=%v", tt.domain, err, tt.valid)
		}
	}
}

func TestPlatformStreamsValid(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range PlatformStreams() {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if seen[s.Subjects[0]] {
			t.Errorf("%s: subject %s used twice", s.Name, s.Subjects[0])
		}
		seen[s.Subjects[0]] = true
	}
	if len(seen) != 10 {
		t.Errorf("PlatformStreams has %d streams; want 10", len(seen))
	}
}

func TestConsumerSpecValidation(t *testing.T) {
	base := ConsumerSpec{Stream: "S", Durable: "d"}
	tests := []struct {
		name    string
		mod     func(*ConsumerSpec)
		wantErr string
	}{
		{"defaults", func(*ConsumerSpec) {}, ""},
		{"no stream", func(s *ConsumerSpec) { s.Stream = "" }, "stream name is empty"},
		{"no durable", func(s *ConsumerSpec) { s.Durable = "" }, "durable consumer name is empty"},
		{"dotted durable", func(s *ConsumerSpec) { s.Durable = "a.b" }, "must not contain"},
		{"bad filter", func(s *ConsumerSpec) { s.FilterSubject = "a..b" }, "FilterSubject"},
		{"wildcard filter", func(s *ConsumerSpec) { s.FilterSubject = "catalog.*.x.>" }, ""},
		{"start seq policy", func(s *ConsumerSpec) { s.DeliverPolicy = jetstream.DeliverByStartSequencePolicy }, "not supported"},
		{"negative ack wait", func(s *ConsumerSpec) { s.AckWait = -time.Second }, "negative"},
		{"backoff longer than max deliver", func(s *ConsumerSpec) {
			s.MaxDeliver = 2
			s.Backoff = []time.Duration{time.Second, time.Second, time.Second}
		}, "at most MaxDeliver"},
		{"default backoff longer than max deliver", func(s *ConsumerSpec) { s.MaxDeliver = 2 }, "at most MaxDeliver"},
		{"negative backoff", func(s *ConsumerSpec) { s.Backoff = []time.Duration{-time.Second} }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.mod(&s)
			got, err := s.withDefaults()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("withDefaults() error = %v; want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("withDefaults(): %v", err)
			}
			if got.AckWait != DefaultAckWait || got.MaxDeliver != DefaultMaxDeliver || len(got.Backoff) == 0 {
				t.Errorf("defaults not applied: %+v", got)
			}
			cfg := got.config()
			if cfg.AckPolicy != jetstream.AckExplicitPolicy || cfg.MaxDeliver != -1 || len(cfg.BackOff) != 0 {
				t.Errorf("config() = %+v; want explicit ack, runner-enforced MaxDeliver, no server BackOff", cfg)
			}
		})
	}
}

func TestBackoffForAttempt(t *testing.T) {
	s := ConsumerSpec{Backoff: []time.Duration{1, 2, 3}}
	for n, want := range map[int]time.Duration{0: 1, 1: 1, 2: 2, 3: 3, 4: 3, 10: 3} {
		if got := s.backoff(n); got != want {
			t.Errorf("backoff(%d) = %d; want %d", n, got, want)
		}
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("bad payload")
	wrapped := Permanent(base)
	if !IsPermanent(wrapped) || !IsPermanent(fmt.Errorf("ctx: %w", wrapped)) {
		t.Error("IsPermanent false for a Permanent error")
	}
	if IsPermanent(base) || IsPermanent(nil) || Permanent(nil) != nil {
		t.Error("IsPermanent true for a plain error or nil")
	}
	if !strings.Contains(wrapped.Error(), "bad payload") {
		t.Errorf("Error() = %q", wrapped.Error())
	}
}

func TestParseEvent(t *testing.T) {
	h := nats.Header{}
	h.Set(HeaderSpecVersion, "1.0")
	h.Set(HeaderID, "id-1")
	h.Set(HeaderType, "aifactory.test.v1.Thing")
	h.Set(HeaderSource, "aifactory/test")
	h.Set(HeaderTime, "2026-01-02T03:04:05.123456789Z")
	h.Set("x-extra", "v")
	ev, err := ParseEvent(h, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "id-1" || ev.Type != "aifactory.test.v1.Thing" || ev.Source != "aifactory/test" ||
		ev.Time.Nanosecond() != 123456789 || ev.Headers.Get("x-extra") != "v" || string(ev.Data) != "x" {
		t.Errorf("ParseEvent = %+v", ev)
	}
	h.Del(HeaderType)
	if _, err := ParseEvent(h, nil); err == nil {
		t.Error("ParseEvent without ce-type: no error")
	}
	h.Set(HeaderType, "t")
	h.Set(HeaderTime, "yesterday")
	if _, err := ParseEvent(h, nil); err == nil {
		t.Error("ParseEvent with a bad ce-time: no error")
	}
}

func TestHeaderValue(t *testing.T) {
	if got := headerValue("a\r\nb"); got != "a  b" {
		t.Errorf("headerValue = %q", got)
	}
	if got := headerValue(strings.Repeat("é", 1000)); len(got) > 1024 || !strings.HasPrefix(got, "é") {
		t.Errorf("headerValue truncation: len %d", len(got))
	}
}
