package online

import (
	"math"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"
)

func codecSamples() []*featurestorev1.Value {
	return []*featurestorev1.Value{
		{},
		{Kind: &featurestorev1.Value_StringValue{StringValue: ""}},
		{Kind: &featurestorev1.Value_StringValue{StringValue: "premium|\x00"}},
		{Kind: &featurestorev1.Value_Int64Value{Int64Value: math.MinInt64}},
		{Kind: &featurestorev1.Value_Int64Value{Int64Value: 1234567}},
		{Kind: &featurestorev1.Value_DoubleValue{DoubleValue: -0.125}},
		{Kind: &featurestorev1.Value_BoolValue{BoolValue: true}},
		{Kind: &featurestorev1.Value_BoolValue{BoolValue: false}},
		{Kind: &featurestorev1.Value_TimestampValue{TimestampValue: &timestamppb.Timestamp{Seconds: -5, Nanos: 999999999}}},
		{Kind: &featurestorev1.Value_TimestampValue{TimestampValue: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))}},
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, v := range codecSamples() {
		enc := encodeValue(v)
		got, err := decodeValue(enc)
		if err != nil {
			t.Fatalf("decode(encode(%v)): %v", v, err)
		}
		if !proto.Equal(got, v) {
			t.Errorf("round trip of %v = %v", v, got)
		}
	}
	if enc := encodeValue(nil); enc != "\x00" {
		t.Errorf("encode(nil) = %q, want null", enc)
	}
}

func TestDecodeRejectsCorrupt(t *testing.T) {
	for _, s := range []string{"", "x", "\x00\x00", "i", "i\x80", "i\x01\x01", "d1234567", "T1", "t\x02", "t\x02\x80"} {
		if v, err := decodeValue(s); err == nil {
			t.Errorf("decode(%q) = %v, want an error", s, v)
		}
	}
	for _, s := range []string{"", "|", "id", "id|1234567", "id|12345678\x05", "id|12345678\x01\x05s"} {
		if e, err := parseMember(s, newValueAlloc(1)); err == nil {
			t.Errorf("parseMember(%q) = %+v, want an error", s, e)
		}
	}
}

func TestMemberRoundTrip(t *testing.T) {
	e := AggEvent{ID: "msg-1", EventTime: time.Date(1960, 5, 6, 7, 8, 9, 10, time.UTC), Inputs: append(codecSamples(), nil)}
	got, err := parseMember(eventMember(&e), newValueAlloc(4))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != e.ID || !got.EventTime.Equal(e.EventTime) || len(got.Inputs) != len(e.Inputs) {
		t.Fatalf("got %+v", got)
	}
	for i, v := range e.Inputs {
		if v == nil {
			v = &featurestorev1.Value{}
		}
		if !proto.Equal(got.Inputs[i], v) {
			t.Errorf("input %d = %v, want %v", i, got.Inputs[i], v)
		}
	}
}

// FuzzDecodeValue: decoding never panics, and whatever decodes re-encodes
// to a value that decodes equal.
func FuzzDecodeValue(f *testing.F) {
	for _, v := range codecSamples() {
		f.Add(encodeValue(v))
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := decodeValue(s)
		if err != nil {
			return
		}
		again, err := decodeValue(encodeValue(v))
		if err != nil || !proto.Equal(v, again) && !math.IsNaN(v.GetDoubleValue()) {
			t.Fatalf("%q: %v re-decoded as %v, %v", s, v, again, err)
		}
	})
}

// FuzzParseMember: parsing a sorted-set member never panics.
func FuzzParseMember(f *testing.F) {
	e := AggEvent{ID: "a", EventTime: time.Unix(1, 2), Inputs: codecSamples()}
	f.Add(eventMember(&e))
	f.Add("x|")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseMember(s, newValueAlloc(1))
	})
}

// BenchmarkCodec compares the store's value encoding with protobuf
// encoding of the same Values (the alternative layout).
func BenchmarkCodec(b *testing.B) {
	vals := codecSamples()
	b.Run("tagged/encode+decode", func(b *testing.B) {
		size := 0
		for _, v := range vals {
			size += len(encodeValue(v))
		}
		for b.Loop() {
			for _, v := range vals {
				if _, err := decodeValue(encodeValue(v)); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(size), "bytes/set")
	})
	b.Run("proto/encode+decode", func(b *testing.B) {
		size := 0
		for _, v := range vals {
			enc, _ := proto.Marshal(v)
			size += len(enc)
		}
		for b.Loop() {
			for _, v := range vals {
				enc, err := proto.Marshal(v)
				if err != nil {
					b.Fatal(err)
				}
				var out featurestorev1.Value
				if err := proto.Unmarshal(enc, &out); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(size), "bytes/set")
	})
}
